/**
 * Google's own Node clients pointed at the sandbox, as the provisioning code points them:
 * - IAM v1 (`@googleapis/iam`): googleapis drops the path of a client-wide `rootUrl`
 *   (`/sandbox/gcp` would be lost), so the root goes in each call's options: `{ rootUrl }`;
 *   auth is an OAuth2 client holding a dummy access token (sent as `Authorization: Bearer …`).
 * - Cloud Storage (`@google-cloud/storage`): `apiEndpoint` = the sandbox's `/sandbox/gcp`, plus
 *   either `useAuthWithCustomEndpoint: false` (no Authorization header) or an auth client.
 */
import { Storage } from '@google-cloud/storage';
import { auth as googleAuth, iam as googleIam, type iam_v1 } from '@googleapis/iam';

export const PROJECT = 'anyscale-sandbox';
export const BUCKET = 'anyscale-sandbox-bucket';

export interface IamClient {
  api: iam_v1.Iam;
  /** Per-call options: `{ rootUrl }` (see above). */
  opts: { rootUrl: string };
}

export function iamClient(baseUrl: string): IamClient {
  const auth = new googleAuth.OAuth2();
  auth.setCredentials({ access_token: 'sandbox-token' });
  // retry off so an injected 429/503 surfaces on the first answer
  return { api: googleIam({ version: 'v1', auth, retry: false }), opts: { rootUrl: `${baseUrl}/sandbox/gcp/` } };
}

export function storageClient(baseUrl: string, withAuth = false): Storage {
  if (!withAuth)
    return new Storage({ apiEndpoint: `${baseUrl}/sandbox/gcp`, projectId: PROJECT, useAuthWithCustomEndpoint: false, retryOptions: { autoRetry: false } });
  const authClient = new googleAuth.OAuth2();
  authClient.setCredentials({ access_token: 'sandbox-token', expiry_date: Date.now() + 3_600_000 });
  return new Storage({
    apiEndpoint: `${baseUrl}/sandbox/gcp`,
    projectId: PROJECT,
    useAuthWithCustomEndpoint: true,
    authClient: authClient as never,
    retryOptions: { autoRetry: false },
  });
}

/** The HTTP status and Google error body of a failed googleapis call. */
export async function googleError(promise: Promise<unknown>): Promise<{
  status: number;
  error: { code: number; message: string; status?: string; details?: unknown[]; errors?: Array<{ reason: string; message: string }> };
}> {
  try {
    await promise;
  } catch (err) {
    const e = err as { status?: number; code?: number; response?: { status: number; data: unknown } };
    if (e.response) return { status: e.response.status, error: (e.response.data as { error: never }).error };
    throw err;
  }
  throw new Error('expected the call to fail');
}
