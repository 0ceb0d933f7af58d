/**
 * The TLS policy of the apps' HTTPS listeners, on Fargate's shared load balancers (the CDK app) and on EKS's (the
 * load balancer controller, which would otherwise give ELBSecurityPolicy-2016-08, with TLS 1.0 and 1.1): TLS 1.3 and
 * 1.2 with a hybrid post-quantum key exchange (ML-KEM), and TLS 1.2's ciphers as AWS's recommended policy has them, so
 * no client that connects today is turned away. The policy CDK's listeners get by default under its
 * `usePostQuantumTlsPolicy` flag.
 */
export const APPS_TLS_POLICY = 'ELBSecurityPolicy-TLS13-1-2-PQ-2025-09';
