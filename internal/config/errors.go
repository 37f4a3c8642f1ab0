package config

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"
)

// FieldError is one problem with one field of the configuration.
//
// Its message reads "line 12: watches[1].thresholds.participants[0]: must be
// > 0"; the "line N: " prefix appears only when the line is known (Load
// knows it, a Config built in code does not) and the field only when the
// problem belongs to one, so a YAML syntax error reads "line 3: …".
type FieldError struct {
	// Field is the path of the field as written in YAML, such as
	// "notifiers[0].secret_file"; empty for the document as a whole.
	Field string
	// Line is the 1-based line of the field in the file; 0 when unknown.
	Line int
	// Err is the problem. It never contains a secret.
	Err error
}

// Error returns "line N: field: problem", leaving out what is unknown.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the problem.
func (e *FieldError) Unwrap() error { return e.Err }

// Errors are all the problems found in one configuration, ordered by line.
// Load returns them for every kind of invalid configuration; errors.As
// finds them.
type Errors []*FieldError

// Error returns one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// sorted orders the errors by line, keeping the order of discovery on the
// same line, with errors of unknown line last.
func (es Errors) sorted() Errors {
	slices.SortStableFunc(es, func(a, b *FieldError) int {
		switch {
		case a.Line == b.Line:
			return 0
		case a.Line == 0:
			return 1
		case b.Line == 0:
			return -1
		}
		return cmp.Compare(a.Line, b.Line)
	})
	return es
}

// final orders the problems of decoding by line, drops repeats (a value
// reached through several aliases fails once for each) and keeps at most
// maxErrors of them.
func (es Errors) final() Errors {
	es = slices.CompactFunc(es.sorted(), func(a, b *FieldError) bool {
		return a.Line == b.Line && a.Field == b.Field && a.Err.Error() == b.Err.Error()
	})
	if len(es) > maxErrors {
		es = append(es[:maxErrors], &FieldError{Line: es[maxErrors].Line, Err: errors.New("too many problems; stopped here")})
	}
	return es
}
