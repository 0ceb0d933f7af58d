/** AWS credentials as SigV4 signs with them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When the credentials stop working; a token never outlives them. */
  expiration?: Date;
}
