/** DynamoDB client factory with fail-fast settings suited to a request/response API. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type TranslateConfig } from '@aws-sdk/lib-dynamodb';

export interface DocumentClientOptions {
  region: string;
  /** e.g. `http://127.0.0.1:8000` for dynalite; omit for real AWS. */
  endpoint?: string;
  /** Static credentials (local dummies); omit to use the default provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Total attempts incl. the first (SDK retries throttling/5xx/transport with backoff). Default 3. */
  maxAttempts?: number;
  /** Per-attempt request timeout in ms (throws TimeoutError). Default 2500. */
  requestTimeoutMs?: number;
  /** TCP connect timeout in ms. Default 1000. */
  connectionTimeoutMs?: number;
}

export const translateConfig: TranslateConfig = {
  marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  unmarshallOptions: { wrapNumbers: false },
};

export function createDocumentClient(options: DocumentClientOptions): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 1000,
      requestTimeout: options.requestTimeoutMs ?? 2500,
      throwOnRequestTimeout: true,
    },
  });
  return DynamoDBDocumentClient.from(client, translateConfig);
}
