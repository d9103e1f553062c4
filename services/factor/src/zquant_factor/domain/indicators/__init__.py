"""Technical indicators on (dates × stocks) float64 panels, TDX/MyTT conventions, suspended days skipped."""
