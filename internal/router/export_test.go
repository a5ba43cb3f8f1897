package router

// DueHead is dueHead, for the tests of StartDue's pages.
const DueHead = dueHead
