/**
 * The public data sets kept in the repository's `data/` folder (provenance and licences in data/README.md).
 * @module
 */
import { resolve } from 'node:path'

/** The repository's `data/` folder. */
export const DATA_DIR = resolve(import.meta.dirname, '../../data')

export const CDNOW_MASTER = `${DATA_DIR}/cdnow/CDNOW_master.txt`
export const CDNOW_SAMPLE = `${DATA_DIR}/cdnow/CDNOW_sample.txt`
export const CDNOW_SUMMARY = `${DATA_DIR}/cdnow/cdnow_customers_summary.csv`
export const CDNOW_SUMMARY_WITH_TRANSACTIONS = `${DATA_DIR}/cdnow/cdnow_customers_summary_with_transactions.csv`
export const ONLINE_RETAIL = `${DATA_DIR}/online-retail/online_retail.csv.gz`
