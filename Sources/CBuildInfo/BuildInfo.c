// Package.swift defines CASHIER_BATCH_RELEASE and CASHIER_BATCH_COMMIT as C string literals:
// C defines carry values, Swift's compilation conditions do not.
#include "CBuildInfo.h"

const char *cashier_batch_release(void) { return CASHIER_BATCH_RELEASE; }
const char *cashier_batch_commit(void) { return CASHIER_BATCH_COMMIT; }
