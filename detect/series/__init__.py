"""Per-series models: growth against peers, level shifts, ARIMA outlier confirmation, smoothness."""
