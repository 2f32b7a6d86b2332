/**
 * `npm start`: the whole system locally on http://127.0.0.1:${PORT:-3000}, data under ${DATA_DIR:-.data}.
 * Provisions into the built-in sandbox unless IAM_MAPPING_TARGETS=aws (then real IAM/EKS/Kubernetes
 * of the current AWS credentials, trusting EKS_CLUSTER_NAME; see the README).
 *
 * Outside endpoints instead of the embedded ones (README "Outside endpoints"):
 *   DYNAMODB_ENDPOINT (+ TABLE_NAME)      an existing DynamoDB (created when missing); no dynalite is started
 *   AWS_ENDPOINT_URL[_IAM|_EKS|_STS]      read by the AWS SDK itself (IAM_MAPPING_TARGETS=aws sets no endpoint)
 *   K8S_SERVER (+ K8S_TOKEN, K8S_CA_DATA) the Kubernetes API server of every cluster
 *   KUBECONFIG                            or a kubeconfig file's current context
 */
import { resolve } from 'node:path';
import { startLocalServer, type LocalServerOptions } from '../local/server.js';
import { gcpSandboxOptionsFromEnv } from '../local/sandbox/gcp-state.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

const env = process.env;
const port = Number(env.PORT ?? 3000);
const dataDir = resolve(env.DATA_DIR ?? '.data');
const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
const options: LocalServerOptions = { port, dataDir, dynamoPort: Number(env.DYNAMODB_PORT ?? port + 1) };
if (env.DYNAMODB_ENDPOINT) options.dynamoEndpoint = env.DYNAMODB_ENDPOINT.replace(/\/+$/, '');
if (env.TABLE_NAME) options.tableName = env.TABLE_NAME;
if (env.IAM_MAPPING_TARGETS === 'aws') {
  if (!env.EKS_CLUSTER_NAME) throw new Error('IAM_MAPPING_TARGETS=aws needs EKS_CLUSTER_NAME (the cluster whose OIDC provider roles trust)');
  options.targets = {
    mode: 'aws',
    region,
    clusterName: env.EKS_CLUSTER_NAME,
    ...(env.K8S_SERVER ? { k8sServer: env.K8S_SERVER } : {}),
    ...(env.K8S_TOKEN ? { k8sToken: env.K8S_TOKEN } : {}),
    ...(env.K8S_CA_DATA ? { k8sCaData: env.K8S_CA_DATA } : {}),
    ...(env.KUBECONFIG && !env.K8S_SERVER ? { kubeconfig: env.KUBECONFIG } : {}),
  };
  options.defaults = { region, clusterName: env.EKS_CLUSTER_NAME, ...(env.DEFAULT_BUCKET ? { defaultBucket: env.DEFAULT_BUCKET } : {}) };
} else {
  if (env.SANDBOX_LATENCY_MS) options.sandbox = { latencyMs: Number(env.SANDBOX_LATENCY_MS) };
  if (env.SANDBOX_IAM_MUTATING_RPS) options.sandbox = { ...options.sandbox, iamMutatingRatePerSecond: Number(env.SANDBOX_IAM_MUTATING_RPS) };
  const gcp = gcpSandboxOptionsFromEnv(env);
  if (gcp) options.sandbox = { ...options.sandbox, gcp };
}

const server = await startLocalServer(options);
console.log(
  `iam-mapping: API ${server.url}/v1, DynamoDB ${options.dynamoEndpoint ? `${server.dynamoEndpoint} table ${options.tableName ?? 'iam-mapping'}` : `(dynalite) ${server.dynamoEndpoint}`}, data in ${dataDir}`,
);
if (options.targets) {
  const e = (k: string) => env[k] ?? env.AWS_ENDPOINT_URL ?? 'AWS';
  const k8s = env.K8S_SERVER ?? (env.KUBECONFIG ? `kubeconfig ${env.KUBECONFIG}` : 'the EKS cluster endpoint');
  console.log(`iam-mapping: targets IAM ${e('AWS_ENDPOINT_URL_IAM')}, EKS ${e('AWS_ENDPOINT_URL_EKS')}, STS ${e('AWS_ENDPOINT_URL_STS')}, Kubernetes ${k8s}`);
}
if (server.sandbox) {
  console.log(`iam-mapping: sandbox AWS ${server.url}/sandbox/aws, Kubernetes ${server.url}/sandbox/k8s, Google Cloud ${server.url}/sandbox/gcp`);
}
console.log(`iam-mapping ready on ${server.url} — console ${server.url}/console/ (token: npm run --silent dev-token -- owner)`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping`);
  await server.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
