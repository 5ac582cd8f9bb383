package once

// Key is key, for the tests of transact.
type Key = key

// Transact runs transact, for tests: steps 3 and 4 of the algorithm on st.
var Transact = transact

// OutcomeOf runs outcomeOf, for tests.
var OutcomeOf = outcomeOf
