package metrics

import (
	"cmp"
	"slices"
)

// maxCountedScores is the number of distinct scores a scoreSet counts in a
// map before it keeps every score instead. Models that round their scores
// (deciles, four decimals) stay far below it, and then ROC AUC and average
// precision need a few megabytes whatever the number of rows.
const maxCountedScores = 1 << 16

// scoreLevel is one distinct score with the number of positive and
// negative rows that have it.
type scoreLevel struct {
	score                float64
	positives, negatives int64
}

// scoreSet keeps what ROC AUC and average precision need. While there are
// at most maxCountedScores distinct scores it counts the positive and
// negative rows of each one (about 40 bytes per distinct score). Past that
// it keeps the scores of the positive and the negative rows, 8 bytes per
// scored row, and sorts them at the end. The zero value is ready to use.
type scoreSet struct {
	index  map[float64]int32 // score to its position in levels, nil once spilled
	levels []scoreLevel
	// spilled is set once there were too many distinct scores to count;
	// from then on positive and negative hold every score.
	spilled            bool
	positive, negative []float64
	limit              int // maxCountedScores, or a smaller value in tests
	sorted             bool
}

func (s *scoreSet) add(score float64, actual bool) {
	if s.spilled {
		if actual {
			s.positive = append(s.positive, score)
		} else {
			s.negative = append(s.negative, score)
		}
		return
	}
	if s.index == nil {
		s.index = map[float64]int32{}
	}
	// +0 and -0 share one map entry, which is right: they are the same
	// threshold.
	i, ok := s.index[score]
	if !ok {
		limit := s.limit
		if limit == 0 {
			limit = maxCountedScores
		}
		if len(s.levels) == limit {
			s.spill()
			s.add(score, actual)
			return
		}
		i = int32(len(s.levels))
		s.levels = append(s.levels, scoreLevel{score: score})
		s.index[score] = i
	}
	if actual {
		s.levels[i].positives++
	} else {
		s.levels[i].negatives++
	}
}

// spill turns the counted scores into the lists of scores.
func (s *scoreSet) spill() {
	for _, level := range s.levels {
		for range level.positives {
			s.positive = append(s.positive, level.score)
		}
		for range level.negatives {
			s.negative = append(s.negative, level.score)
		}
	}
	s.index, s.levels, s.spilled = nil, nil, true
}

// counts returns the number of positive and negative rows.
func (s *scoreSet) counts() (positives, negatives int64) {
	if s.spilled {
		return int64(len(s.positive)), int64(len(s.negative))
	}
	for _, level := range s.levels {
		positives += level.positives
		negatives += level.negatives
	}
	return positives, negatives
}

// rows returns the number of scored rows.
func (s *scoreSet) rows() int64 {
	p, n := s.counts()
	return p + n
}

// descending calls each with every distinct score's counts, from the
// highest score down. It sorts s in place the first time.
func (s *scoreSet) descending(each func(positives, negatives int64)) {
	if !s.sorted {
		if s.spilled {
			slices.Sort(s.positive)
			slices.Sort(s.negative)
		} else {
			slices.SortFunc(s.levels, func(a, b scoreLevel) int { return cmp.Compare(b.score, a.score) })
		}
		s.sorted = true
	}
	if !s.spilled {
		for _, level := range s.levels {
			each(level.positives, level.negatives)
		}
		return
	}
	i, j := len(s.positive)-1, len(s.negative)-1
	for i >= 0 || j >= 0 {
		var threshold float64
		switch {
		case i < 0:
			threshold = s.negative[j]
		case j < 0:
			threshold = s.positive[i]
		default:
			threshold = max(s.positive[i], s.negative[j])
		}
		var dtp, dfp int64
		for i >= 0 && s.positive[i] == threshold {
			dtp++
			i--
		}
		for j >= 0 && s.negative[j] == threshold {
			dfp++
			j--
		}
		each(dtp, dfp)
	}
}

// rocAUC returns the area under the ROC curve, and false when one class has
// no rows. Like scikit-learn's roc_auc_score, it takes every distinct score
// as a threshold and integrates with the trapezoidal rule, so tied scores
// add a diagonal segment worth half a pair each.
func (s *scoreSet) rocAUC() (float64, bool) {
	positives, negatives := s.counts()
	if positives == 0 || negatives == 0 {
		return 0, false
	}
	var curve aucCurve
	s.descending(curve.add)
	return curve.value(positives, negatives), true
}

// aucCurve integrates the ROC curve while the thresholds are walked from
// the highest score down.
type aucCurve struct{ area, tp uint64 }

// add moves the threshold past a score at which dtp positives and dfp
// negatives join the predicted-positive side. That adds a trapezoid of
// width dfp/N and heights tp/P and (tp+dtp)/P; twice its area times P*N is
// dfp*(2*tp+dtp), an integer, so the sum is exact in uint64 while 2*P*N
// fits (about 6e9 rows, far beyond memory here).
func (c *aucCurve) add(dtp, dfp int64) {
	c.area += uint64(dfp) * (2*c.tp + uint64(dtp))
	c.tp += uint64(dtp)
}

func (c *aucCurve) value(positives, negatives int64) float64 {
	return float64(c.area) / (2 * float64(positives) * float64(negatives))
}
