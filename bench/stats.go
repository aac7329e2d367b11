package main

import (
	"slices"
	"time"
)

// summary of a set of samples, in milliseconds.
type summary struct {
	N      int
	Min    float64
	Median float64
	P99    float64
	Mean   float64
}

func summarize(ns []int64) summary {
	if len(ns) == 0 {
		return summary{}
	}
	s := slices.Clone(ns)
	slices.Sort(s)
	var sum int64
	for _, v := range s {
		sum += v
	}
	ms := func(v int64) float64 { return float64(v) / float64(time.Millisecond) }
	return summary{
		N:      len(s),
		Min:    ms(s[0]),
		Median: ms(s[len(s)/2]),
		P99:    ms(s[min(len(s)-1, (len(s)*99+99)/100-1)]),
		Mean:   ms(sum / int64(len(s))),
	}
}
