//! Roster files: read and write CSV, TSV, XLSX, XLS and ODS; validate rows.
