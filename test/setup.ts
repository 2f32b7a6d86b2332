process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
