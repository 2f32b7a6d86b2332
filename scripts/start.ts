/**
 * `npm start`: the whole system locally on http://127.0.0.1:${PORT:-3000}, data under ${DATA_DIR:-.data}.
 * Provisions into the built-in sandbox unless IAM_MAPPING_TARGETS=aws (then real IAM/EKS/Kubernetes
 * of the current AWS credentials, trusting EKS_CLUSTER_NAME; see the README).
 */
import { resolve } from 'node:path';
import { startLocalServer, type LocalServerOptions } from '../local/server.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

const env = process.env;
const port = Number(env.PORT ?? 3000);
const dataDir = resolve(env.DATA_DIR ?? '.data');
const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
const options: LocalServerOptions = { port, dataDir, dynamoPort: Number(env.DYNAMODB_PORT ?? port + 1) };
if (env.IAM_MAPPING_TARGETS === 'aws') {
  if (!env.EKS_CLUSTER_NAME) throw new Error('IAM_MAPPING_TARGETS=aws needs EKS_CLUSTER_NAME (the cluster whose OIDC provider roles trust)');
  options.targets = { mode: 'aws', region, clusterName: env.EKS_CLUSTER_NAME };
  options.defaults = { region, clusterName: env.EKS_CLUSTER_NAME, ...(env.DEFAULT_BUCKET ? { defaultBucket: env.DEFAULT_BUCKET } : {}) };
} else if (env.SANDBOX_LATENCY_MS) {
  options.sandbox = { latencyMs: Number(env.SANDBOX_LATENCY_MS) };
}

const server = await startLocalServer(options);
console.log(`iam-mapping: API ${server.url}/v1, DynamoDB (dynalite) ${server.dynamoEndpoint}, data in ${dataDir}`);
if (server.sandbox) {
  console.log(`iam-mapping: sandbox AWS ${server.url}/sandbox/aws, Kubernetes ${server.url}/sandbox/k8s`);
}
console.log(`iam-mapping ready on ${server.url}`);

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
