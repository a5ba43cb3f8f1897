package sqlitestore

// SchemaV1ForTest is the first migration: the schema of files written
// before the care tables existed.
var SchemaV1ForTest = migrations[0]

// SchemaBeforeSubjectsForTest are the migrations before runs had subjects
// (user_version 3).
var SchemaBeforeSubjectsForTest = migrations[:3]
