import { execFileSync } from 'node:child_process';

export interface SelfSignedCertificate {
  keyPath: string;
  certificatePath: string;
  /** e.g. `/CN=berth-registry-token` */
  subject: string;
  days: number;
  /** e.g. `IP:127.0.0.1`, for a certificate a TLS client checks against the host. */
  subjectAltName?: string;
}

/** Writes an EC P-256 key and a self-signed certificate for it, with openssl (arguments as an array, no shell). */
export function writeSelfSignedCertificate(options: SelfSignedCertificate): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      options.keyPath,
      '-out',
      options.certificatePath,
      '-days',
      String(options.days),
      '-subj',
      options.subject,
      ...(options.subjectAltName ? ['-addext', `subjectAltName=${options.subjectAltName}`] : []),
    ],
    { stdio: 'ignore' },
  );
}
