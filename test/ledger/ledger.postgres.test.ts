/** The ledger conformance suite on PostgreSQL (the server started by test/ledger/postgres-setup.ts). */
import { ledgerSuite } from './suites/ledger-suite.js'

ledgerSuite('postgres')
