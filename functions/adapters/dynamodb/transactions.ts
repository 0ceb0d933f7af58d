import {
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { cancellationCodes, translateStoreError } from './errors.ts';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type Params = Record<string, unknown>;

/** Transaction items from ElectroDB's `.params()`. */
export const put = (params: Params): TransactItem => ({ Put: params as TransactItem['Put'] });
export const update = ({ ReturnValues: _ignored, ...params }: Params): TransactItem => ({
  Update: params as TransactItem['Update'],
});
export const remove = (params: Params): TransactItem => ({ Delete: params as TransactItem['Delete'] });

const TRANSACTION_CONFLICT_RETRIES = 6;

/**
 * Runs a transaction, retrying DynamoDB's transaction conflicts (another transaction on the same items). A failed
 * condition comes back as the cancellation codes; anything else becomes a domain error.
 */
export async function transact(
  client: DynamoDBDocumentClient,
  items: TransactItem[],
): Promise<{ cancelled: string[] | undefined }> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.send(new TransactWriteCommand({ TransactItems: items }));
      return { cancelled: undefined };
    } catch (err) {
      const codes = cancellationCodes(err);
      if (!codes) return translateStoreError(err);
      if (codes.includes('TransactionConflict') && attempt < TRANSACTION_CONFLICT_RETRIES) {
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * attempt));
        continue;
      }
      if (codes.includes('ConditionalCheckFailed')) return { cancelled: codes };
      return translateStoreError(err);
    }
  }
}
