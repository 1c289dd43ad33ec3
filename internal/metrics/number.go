package metrics

import (
	"errors"
	"math"
	"strconv"
)

// The problems parseDecimal reports. Callers turn them into messages that
// name the value and the column.
var (
	errNotNumber  = errors.New("not a number")
	errNotDecimal = errors.New("a number in a notation other than decimal")
	errNotFinite  = errors.New("not a finite number")
)

// parseDecimal parses a number written in decimal notation: an optional
// sign, digits with at most one decimal point, and an optional exponent
// such as e-3. text must already be trimmed.
//
// strconv.ParseFloat (Go 1.26) also accepts hexadecimal floats (0x1p-2),
// underscores between digits (1_000, 0x_1p0), and Inf, Infinity and NaN
// in any case. pandas 1.5.3's read_csv keeps the first two as text, so a
// file that relies on them gives different results in other tools. NaN and the
// infinities are reported as errNotFinite, as is a decimal number beyond
// the float64 range. A number too small for a float64 becomes 0 or a
// subnormal, as in ParseFloat.
func parseDecimal(text string) (float64, error) {
	if !isDecimal(text) {
		v, err := strconv.ParseFloat(text, 64)
		switch {
		case err == nil && (math.IsNaN(v) || math.IsInf(v, 0)):
			return 0, errNotFinite
		case err == nil || errors.Is(err, strconv.ErrRange):
			return 0, errNotDecimal
		}
		return 0, errNotNumber
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, errNotNumber
	}
	// ParseFloat reports ErrRange with ±Inf on overflow, and with 0 or a
	// subnormal on underflow, which is a usable value.
	if math.IsInf(v, 0) {
		return 0, errNotFinite
	}
	return v, nil
}

// isDecimal reports whether text matches [+-]?(digits(.digits?)?|.digits)
// followed by an optional exponent [eE][+-]?digits.
func isDecimal(text string) bool {
	i := 0
	if i < len(text) && (text[i] == '+' || text[i] == '-') {
		i++
	}
	mantissaDigits := 0
	for i < len(text) && isDigit(text[i]) {
		i++
		mantissaDigits++
	}
	if i < len(text) && text[i] == '.' {
		i++
		for i < len(text) && isDigit(text[i]) {
			i++
			mantissaDigits++
		}
	}
	if mantissaDigits == 0 {
		return false
	}
	if i < len(text) && (text[i] == 'e' || text[i] == 'E') {
		i++
		if i < len(text) && (text[i] == '+' || text[i] == '-') {
			i++
		}
		exponentDigits := 0
		for i < len(text) && isDigit(text[i]) {
			i++
			exponentDigits++
		}
		if exponentDigits == 0 {
			return false
		}
	}
	return i == len(text)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
