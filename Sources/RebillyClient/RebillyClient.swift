// The RebillyClient module: the cashier API over async-http-client (see README).
