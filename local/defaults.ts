/**
 * Process defaults of the local system, imported before anything else: no CloudWatch reads the
 * EMF metrics Powertools would print per request, so they are off unless asked for
 * (POWERTOOLS_METRICS_DISABLED=false).
 */
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
