package metrics

import "slices"

// scoreSet keeps the scores of the positive and the negative rows, which is
// all that ROC AUC needs: 8 bytes per scored row.
type scoreSet struct {
	positive, negative []float64
}

func (s *scoreSet) add(score float64, actual bool) {
	if actual {
		s.positive = append(s.positive, score)
	} else {
		s.negative = append(s.negative, score)
	}
}

// rocAUC returns the area under the ROC curve, and false when one class has
// no rows. Like scikit-learn's roc_auc_score, it takes every distinct score
// as a threshold and integrates with the trapezoidal rule, so tied scores
// add a diagonal segment worth half a pair each. It sorts s in place.
func (s *scoreSet) rocAUC() (float64, bool) {
	positives, negatives := len(s.positive), len(s.negative)
	if positives == 0 || negatives == 0 {
		return 0, false
	}
	slices.Sort(s.positive)
	slices.Sort(s.negative)

	// Walk the thresholds from the highest score down. At each one, dfp
	// negatives and dtp positives join the predicted-positive side, adding a
	// trapezoid of width dfp/N and heights tp/P and (tp+dtp)/P. Twice its
	// area times P*N is dfp*(2*tp+dtp), an integer, so the sum is exact in
	// uint64 while 2*P*N fits (about 6e9 rows, far beyond memory here).
	var area, tp uint64
	i, j := positives-1, negatives-1
	for i >= 0 || j >= 0 {
		threshold := s.nextThreshold(i, j)
		var dtp, dfp uint64
		for i >= 0 && s.positive[i] == threshold {
			dtp++
			i--
		}
		for j >= 0 && s.negative[j] == threshold {
			dfp++
			j--
		}
		area += dfp * (2*tp + dtp)
		tp += dtp
	}
	return float64(area) / (2 * float64(positives) * float64(negatives)), true
}

// nextThreshold returns the larger of the next positive and negative score.
func (s *scoreSet) nextThreshold(i, j int) float64 {
	switch {
	case i < 0:
		return s.negative[j]
	case j < 0:
		return s.positive[i]
	}
	return max(s.positive[i], s.negative[j])
}
