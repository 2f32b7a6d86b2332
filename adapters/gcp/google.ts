/**
 * The Google Cloud port (lib/ports.ts GcpPort) over Google's own Node clients:
 * `@googleapis/iam` (IAM v1: service accounts and their IAM policies) and `@google-cloud/storage`
 * (bucket IAM), plus the GKE API (`container.googleapis.com`, through the same auth client) to
 * reach a cluster's Kubernetes API with a Google access token.
 *
 *   google  — Google's endpoints with Application Default Credentials (the deployed functions'
 *             workload identity federation / service account key, `gcloud auth application-default`).
 *   sandbox — everything at `${sandboxUrl}/sandbox/gcp` (IAM at `/v1/…`, Storage at
 *             `/storage/v1/…`) with a dummy bearer token; GKE clusters are the sandbox's
 *             GKE Kubernetes API (`/sandbox/gke`), a store of its own beside the EKS clusters' (`/sandbox/k8s`).
 *
 * `baseUrl` points both APIs of mode `google` elsewhere (an emulator, a private endpoint).
 */
import { Storage } from '@google-cloud/storage';
import { auth as googleAuth, iam as iamClient, type iam_v1 } from '@googleapis/iam';
import type { GcpPort, GkeCluster, GoogleIamPolicy, GoogleServiceAccount, KubernetesPort } from '../../lib/ports.js';
import { gkeIssuer } from '../../lib/provisioning/gcp-settings.js';
import { KubeServiceAccounts, normaliseServerUrl } from '../k8s/service-accounts.js';
import { googleStatus, mapGoogleError } from './errors.js';

export interface GcpTargetsConfig {
  mode: 'google' | 'sandbox';
  /** Mode sandbox: the server mounting the sandbox, e.g. `http://127.0.0.1:4000`. */
  sandboxUrl?: string;
  /** Mode google: one base URL for IAM and Storage instead of Google's (GCP_API_BASE_URL). */
  baseUrl?: string;
  /** Mode google: a Kubernetes API server for every GKE cluster instead of the one the GKE API names. */
  k8sServer?: string;
}

const SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];

const toPolicy = (p: {
  version?: number | null;
  etag?: string | null;
  bindings?: Array<{ role?: string | null; members?: string[] | null; condition?: unknown }> | null;
}): GoogleIamPolicy => ({
  ...(typeof p.version === 'number' ? { version: p.version } : {}),
  ...(p.etag ? { etag: p.etag } : {}),
  bindings: (p.bindings ?? []).map((b) => ({
    role: b.role ?? '',
    members: [...(b.members ?? [])],
    ...(b.condition !== undefined && b.condition !== null ? { condition: b.condition } : {}),
  })),
});

const toAccount = (a: iam_v1.Schema$ServiceAccount): GoogleServiceAccount => ({
  email: a.email ?? '',
  projectId: a.projectId ?? '',
  ...(a.uniqueId ? { uniqueId: a.uniqueId } : {}),
  ...(a.displayName ? { displayName: a.displayName } : {}),
  ...(a.description ? { description: a.description } : {}),
  ...(a.disabled ? { disabled: true } : {}),
});

export class GoogleCloudTargets implements GcpPort {
  private readonly iam: iam_v1.Iam;
  private readonly storage: Storage;
  private readonly auth: InstanceType<typeof googleAuth.GoogleAuth> | null;
  private readonly sandboxK8s: string | undefined;
  private readonly kubeClients = new Map<string, KubeServiceAccounts>();
  /** Per-call options: googleapis drops the path of a client-wide rootUrl (`…/sandbox/gcp`), so the root goes in each call. */
  private readonly opts: { rootUrl?: string };

  constructor(private readonly config: GcpTargetsConfig) {
    if (config.mode === 'sandbox') {
      if (!config.sandboxUrl) throw new Error('GoogleCloudTargets: mode "sandbox" needs sandboxUrl');
      const root = `${config.sandboxUrl.replace(/\/+$/, '')}/sandbox`;
      const oauth = new googleAuth.OAuth2();
      oauth.setCredentials({ access_token: 'sandbox', expiry_date: Date.now() + 10 * 365 * 24 * 3600 * 1000 });
      this.iam = iamClient({ version: 'v1', auth: oauth });
      this.opts = { rootUrl: `${root}/gcp/` };
      this.storage = new Storage({ apiEndpoint: `${root}/gcp`, projectId: 'sandbox', useAuthWithCustomEndpoint: true, authClient: oauth as never });
      this.auth = null;
      this.sandboxK8s = `${root}/gke`;
    } else {
      const auth = new googleAuth.GoogleAuth({ scopes: SCOPES });
      const base = config.baseUrl?.replace(/\/+$/, '');
      this.iam = iamClient({ version: 'v1', auth });
      this.opts = base ? { rootUrl: `${base}/` } : {};
      this.storage = new Storage(base ? { apiEndpoint: base, useAuthWithCustomEndpoint: true } : {});
      this.auth = auth;
      this.sandboxK8s = undefined;
    }
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw mapGoogleError(e, what);
    }
  }

  async getServiceAccount(project: string, email: string): Promise<GoogleServiceAccount | null> {
    try {
      const res = await this.iam.projects.serviceAccounts.get({ name: `projects/${project}/serviceAccounts/${email}` }, this.opts);
      return toAccount(res.data);
    } catch (e) {
      if (googleStatus(e) === 404) return null;
      throw mapGoogleError(e, `get service account ${email}`);
    }
  }

  listServiceAccounts(project: string): Promise<GoogleServiceAccount[]> {
    return this.call(`list service accounts of ${project}`, async () => {
      const out: GoogleServiceAccount[] = [];
      let pageToken: string | undefined;
      do {
        const res = await this.iam.projects.serviceAccounts.list(
          { name: `projects/${project}`, pageSize: 100, ...(pageToken ? { pageToken } : {}) },
          this.opts,
        );
        for (const a of res.data.accounts ?? []) out.push(toAccount(a));
        pageToken = res.data.nextPageToken ?? undefined;
      } while (pageToken);
      return out;
    });
  }

  async deleteServiceAccount(project: string, email: string): Promise<boolean> {
    try {
      await this.iam.projects.serviceAccounts.delete({ name: `projects/${project}/serviceAccounts/${email}` }, this.opts);
      return true;
    } catch (e) {
      if (googleStatus(e) === 404) return false;
      throw mapGoogleError(e, `delete service account ${email}`);
    }
  }

  createServiceAccount(input: { project: string; accountId: string; displayName: string; description: string }): Promise<GoogleServiceAccount> {
    return this.call(`create service account ${input.accountId} in ${input.project}`, async () => {
      const res = await this.iam.projects.serviceAccounts.create(
        {
          name: `projects/${input.project}`,
          requestBody: { accountId: input.accountId, serviceAccount: { displayName: input.displayName, description: input.description } },
        },
        this.opts,
      );
      return toAccount(res.data);
    });
  }

  getServiceAccountPolicy(project: string, email: string): Promise<GoogleIamPolicy> {
    return this.call(`getIamPolicy of ${email}`, async () => {
      const res = await this.iam.projects.serviceAccounts.getIamPolicy(
        {
          resource: `projects/${project}/serviceAccounts/${email}`,
          'options.requestedPolicyVersion': 3,
        },
        this.opts,
      );
      return toPolicy(res.data);
    });
  }

  setServiceAccountPolicy(project: string, email: string, policy: GoogleIamPolicy): Promise<GoogleIamPolicy> {
    return this.call(`setIamPolicy of ${email}`, async () => {
      const res = await this.iam.projects.serviceAccounts.setIamPolicy(
        { resource: `projects/${project}/serviceAccounts/${email}`, requestBody: { policy: policy as iam_v1.Schema$Policy } },
        this.opts,
      );
      return toPolicy(res.data);
    });
  }

  async getBucketPolicy(bucket: string): Promise<GoogleIamPolicy | null> {
    try {
      const [policy] = await this.storage.bucket(bucket).iam.getPolicy({ requestedPolicyVersion: 3 });
      return toPolicy(policy);
    } catch (e) {
      if (googleStatus(e) === 404) return null;
      throw mapGoogleError(e, `getIamPolicy of bucket ${bucket}`);
    }
  }

  setBucketPolicy(bucket: string, policy: GoogleIamPolicy): Promise<GoogleIamPolicy> {
    return this.call(`setIamPolicy of bucket ${bucket}`, async () => {
      const [written] = await this.storage.bucket(bucket).iam.setPolicy({ ...policy, bindings: policy.bindings as never });
      return toPolicy(written);
    });
  }

  async describeGkeCluster(project: string, location: string | null, name: string): Promise<GkeCluster> {
    const loc = location ?? '-';
    const identity = {
      name,
      project,
      location,
      issuerHost: gkeIssuer(project, location, name),
      oidcProviderArn: '',
      accountId: project,
    };
    if (!this.auth || this.config.k8sServer) return identity;
    const auth = this.auth;
    return this.call(`describe GKE cluster ${name}`, async () => {
      const client = await auth.getClient();
      const res = await client.request<{ endpoint?: string; location?: string; masterAuth?: { clusterCaCertificate?: string } }>({
        url: `https://container.googleapis.com/v1/projects/${project}/locations/${loc}/clusters/${name}`,
      });
      const data = res.data;
      const actual = data.location ?? loc;
      return {
        ...identity,
        issuerHost: gkeIssuer(project, actual, name),
        location: actual,
        ...(data.endpoint ? { endpoint: `https://${data.endpoint}` } : {}),
        ...(data.masterAuth?.clusterCaCertificate ? { caData: data.masterAuth.clusterCaCertificate } : {}),
      };
    });
  }

  kubernetes(cluster: GkeCluster): KubernetesPort {
    const server = this.sandboxK8s ?? this.config.k8sServer ?? cluster.endpoint;
    if (!server) throw mapGoogleError(new Error(`GKE cluster ${cluster.name} has no API endpoint`), `reach GKE cluster ${cluster.name}`);
    const key = `${server}\u0000${cluster.issuerHost}`;
    let client = this.kubeClients.get(key);
    if (!client) {
      const auth = this.auth;
      client = new KubeServiceAccounts({
        server: normaliseServerUrl(server),
        ...(cluster.caData && !this.sandboxK8s ? { caData: cluster.caData } : {}),
        ...(auth
          ? {
              token: async () => {
                const token = await auth.getAccessToken();
                if (!token) throw new Error('Application Default Credentials gave no access token');
                return token;
              },
            }
          : {}),
      });
      this.kubeClients.set(key, client);
    }
    return client;
  }
}

export const createGcpTargets = (config: GcpTargetsConfig): GcpPort => new GoogleCloudTargets(config);
