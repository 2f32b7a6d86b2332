// Node 20 lacks Promise.withResolvers (aws-local-stepfunctions needs it).
import '../local/polyfills.js';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
