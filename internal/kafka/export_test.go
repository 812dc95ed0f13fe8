package kafka

// RequestFrame lets the external tests build frames as the fuzz target
// does.
var RequestFrame = requestFrame
