// Node 20 lacks Promise.withResolvers (aws-local-stepfunctions needs it).
import '../local/polyfills.js';
