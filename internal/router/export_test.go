package router

// DueHead is dueHead, for the tests of StartDue's surge path.
const DueHead = dueHead
