// Reconciliation: operator ↔ ledger ↔ Rebilly (issue 5).
