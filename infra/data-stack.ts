import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { TABLE_KEYS } from '../functions/adapters/dynamodb/table.ts';

/**
 * The stateful part of an install, kept apart so stateless stacks can be replaced freely: the single table, with
 * point-in-time recovery, deletion protection and TTL, and the keys the store uses; the billing report bucket.
 */
export class DataStack extends Stack {
  readonly table: TableV2;
  readonly reports: Bucket;

  constructor(
    scope: Construct,
    id: string,
    props: StackProps & { tableName: string; reportBucketName: (stack: Stack) => string },
  ) {
    super(scope, id, props);
    this.table = new TableV2(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
      globalSecondaryIndexes: TABLE_KEYS.indexes.map((index) => ({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
      })),
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      timeToLiveAttribute: TABLE_KEYS.timeToLiveAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.reports = new Bucket(this, 'Reports', {
      bucketName: props.reportBucketName(this),
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
