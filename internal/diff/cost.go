package diff

import "math"

// estimatedCost returns minutes times price, rounded to a millionth (of a
// dollar, say), or nil when price is not a positive number or minutes not a
// finite one at least 0.
func estimatedCost(minutes, price float64) *float64 {
	if !(price > 0) || math.IsInf(price, 0) || !(minutes >= 0) || math.IsInf(minutes, 0) {
		return nil
	}
	return ptr(math.Round(minutes*price*1e6) / 1e6)
}
