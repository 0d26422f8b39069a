// The Throttle module: token bucket, AIMD, backoff with full jitter (see README).
