#ifndef CASHIER_BATCH_BUILD_INFO_H
#define CASHIER_BATCH_BUILD_INFO_H

/// The release this binary is (Package.swift's `release`).
const char *cashier_batch_release(void);
/// The commit it was built from, as Package.swift read it from CASHIER_BATCH_COMMIT ("unknown" without it).
const char *cashier_batch_commit(void);

#endif
