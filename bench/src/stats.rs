//! Order statistics over a handful of samples: medians of runs and nearest-rank
//! percentiles of timings. With fewer than 100 samples a p99 is the largest one.

/// The nearest-rank `q` quantile (0 < q ≤ 1) of `values`; NaN when there are none.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (sorted.len() as f64 * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median (the upper one for an even count, as a nearest rank).
pub fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

pub fn p95(values: &[f64]) -> f64 {
    quantile(values, 0.95)
}

pub fn p99(values: &[f64]) -> f64 {
    quantile(values, 0.99)
}

/// The share of `values` above `limit`, in percent.
pub fn share_over(values: &[f64], limit: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.iter().filter(|&&v| v > limit).count() as f64 * 100.0 / values.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(median(&v), 10.0);
        assert_eq!(p95(&v), 19.0);
        assert_eq!(p99(&v), 20.0);
        assert_eq!(median(&[3.0]), 3.0);
        assert!(median(&[]).is_nan());
        assert_eq!(share_over(&[1.0, 20.0, 17.0, 3.0], 16.7), 50.0);
    }
}
