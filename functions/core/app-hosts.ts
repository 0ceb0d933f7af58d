/** The DNS name an app answers at under a domain: `<app>.<tenant>.<domain>` (every mode, every runtime). */
export const appHostname = (tenantId: string, app: string, domain: string) => `${app}.${tenantId}.${domain}`;
