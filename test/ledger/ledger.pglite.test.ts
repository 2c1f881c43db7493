/** The ledger conformance suite on the embedded store (PGlite). */
import { ledgerSuite } from './suites/ledger-suite.js'

ledgerSuite('pglite')
