// Package strictyaml decodes YAML into Go structs strictly: an unknown key,
// a duplicate key, a merge key (<<), a value of the wrong type or more than
// one document is an error, and every such problem is reported at once
// under its key path (keypath.Problems), where yaml.v3's KnownFields stops
// at the first.
//
// Hostile input stays cheap to reject: Parse turns parser panics into
// errors, and a Decoder counts every node it visits, alias expansions
// included, against MaxNodes and stops descending past MaxDepth, so an
// alias bomb or deep nesting costs a bounded amount of work. Callers bound
// the input size before Parse.
//
// Decoded structs name their keys with yaml tags; fields may be strings,
// bools, ints, pointers, slices, string-keyed maps and interfaces (which
// get JSON-compatible values, see Decoder.Generic).
package strictyaml
