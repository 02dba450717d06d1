//! Geo-queries (`georel`, `geometry`, `coords`): near a point within or
//! beyond a distance, and covered by, intersecting, disjoint from or equal
//! to a point, box, polygon or line.

use super::request::Params;
use super::response::ApiError;
use crate::entities::Entity;

/// A geo-query (`georel`, `geometry`, `coords`; coordinates are
/// `latitude,longitude` as in Orion).
#[derive(Debug)]
pub(super) struct GeoQuery {
    pub(super) relation: GeoRelation,
    geometry: Geometry,
}

#[derive(Debug)]
pub(super) enum GeoRelation {
    Near { max: Option<f64>, min: Option<f64> },
    CoveredBy,
    Intersects,
    Disjoint,
    Equals,
}

#[derive(Debug)]
pub(super) enum Geometry {
    Point(f64, f64),
    Box(f64, f64, f64, f64),
    Polygon(Vec<(f64, f64)>),
    Line(Vec<(f64, f64)>),
}

impl GeoQuery {
    pub(super) fn parse(params: &Params) -> Result<Option<GeoQuery>, ApiError> {
        let (georel, geometry, coords) = (
            params.get("georel"),
            params.get("geometry"),
            params.get("coords"),
        );
        if georel.is_none() && geometry.is_none() && coords.is_none() {
            return Ok(None);
        }
        let bad = |why: &str| ApiError::bad_request(format!("Invalid query: {why}"));
        let (georel, geometry, coords) = match (georel, geometry, coords) {
            (Some(georel), Some(geometry), Some(coords)) => (georel, geometry, coords),
            (_, None, Some(_)) => return Err(bad("URI param /coords/ used without /geometry/")),
            (_, Some(_), None) => return Err(bad("URI param /geometry/ used without /coords/")),
            (Some(_), None, _) => return Err(bad("URI param /georel/ used without /geometry/")),
            _ => return Err(bad("URI param /georel/ missing")),
        };
        let points: Vec<(f64, f64)> = coords
            .split(';')
            .map(|pair| {
                let (lat, lon) = pair.split_once(',')?;
                let (lat, lon) = (
                    lat.trim().parse::<f64>().ok()?,
                    lon.trim().parse::<f64>().ok()?,
                );
                (lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0)
                    .then_some((lat, lon))
            })
            .collect::<Option<_>>()
            .ok_or_else(|| bad("invalid coordinates"))?;
        let geometry = match (geometry, points.as_slice()) {
            ("point", [p]) => Geometry::Point(p.0, p.1),
            ("box", [a, b]) => {
                Geometry::Box(a.0.min(b.0), a.1.min(b.1), a.0.max(b.0), a.1.max(b.1))
            }
            ("polygon", ps) if ps.len() >= 4 && ps.first() == ps.last() => {
                Geometry::Polygon(ps.to_vec())
            }
            ("line", ps) if ps.len() >= 2 => Geometry::Line(ps.to_vec()),
            _ => return Err(bad("invalid geometry or number of coordinates")),
        };
        let mut parts = georel.split(';');
        let relation = match parts.next().unwrap_or("") {
            "near" => {
                let (mut max, mut min) = (None, None);
                for modifier in parts {
                    let (key, value) = modifier
                        .split_once(':')
                        .ok_or_else(|| bad("invalid georel"))?;
                    let value = value
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite() && *v >= 0.0)
                        .ok_or_else(|| bad("invalid distance"))?;
                    match key.trim() {
                        "maxDistance" => max = Some(value),
                        "minDistance" => min = Some(value),
                        _ => return Err(bad("invalid georel")),
                    }
                }
                if (max.is_none() && min.is_none()) || !matches!(geometry, Geometry::Point(..)) {
                    return Err(bad("near needs a point and maxDistance or minDistance"));
                }
                GeoRelation::Near { max, min }
            }
            "coveredBy" => GeoRelation::CoveredBy,
            "intersects" => GeoRelation::Intersects,
            "disjoint" => GeoRelation::Disjoint,
            "equals" => GeoRelation::Equals,
            _ => return Err(bad("invalid georel")),
        };
        Ok(Some(GeoQuery { relation, geometry }))
    }

    /// The distance in metres from the query's point, for `near`.
    pub(super) fn distance(&self, entity: &Entity) -> Option<f64> {
        let (lat, lon) = entity_point(entity)?;
        match self.geometry {
            Geometry::Point(plat, plon) => Some(haversine(lat, lon, plat, plon)),
            _ => None,
        }
    }

    pub(super) fn matches(&self, entity: &Entity) -> bool {
        let Some((lat, lon)) = entity_point(entity) else {
            return false;
        };
        let inside = || match &self.geometry {
            Geometry::Point(plat, plon) => lat == *plat && lon == *plon,
            Geometry::Box(s, w, n, e) => (*s..=*n).contains(&lat) && (*w..=*e).contains(&lon),
            Geometry::Polygon(ring) => point_in_ring(lat, lon, ring),
            Geometry::Line(points) => edges(points).any(|(a, b)| on_segment(lat, lon, a, b)),
        };
        match &self.relation {
            GeoRelation::Near { max, min } => self
                .distance(entity)
                .is_some_and(|d| max.is_none_or(|max| d <= max) && min.is_none_or(|min| d >= min)),
            GeoRelation::CoveredBy | GeoRelation::Intersects => inside(),
            GeoRelation::Disjoint => !inside(),
            GeoRelation::Equals => matches!(self.geometry, Geometry::Point(..)) && inside(),
        }
    }
}

/// The entity's location: the first `geo:json` point attribute.
pub(super) fn entity_point(entity: &Entity) -> Option<(f64, f64)> {
    entity.attrs.iter().find_map(|(_, attr_type, value)| {
        if attr_type != "geo:json" || value.get("type")?.as_str()? != "Point" {
            return None;
        }
        let coordinates = value.get("coordinates")?.as_array()?;
        let lon = coordinates.first()?.as_f64()?;
        let lat = coordinates.get(1)?.as_f64()?;
        Some((lat, lon))
    })
}

pub(super) fn haversine(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_371_008.8;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

/// The segments between consecutive points of a line or ring.
fn edges(points: &[(f64, f64)]) -> impl Iterator<Item = ((f64, f64), (f64, f64))> + '_ {
    points.iter().copied().zip(points.iter().copied().skip(1))
}

/// Ray casting; points on the ring count as inside.
pub(super) fn point_in_ring(lat: f64, lon: f64, ring: &[(f64, f64)]) -> bool {
    if edges(ring).any(|(a, b)| on_segment(lat, lon, a, b)) {
        return true;
    }
    let mut inside = false;
    for ((y1, x1), (y2, x2)) in edges(ring) {
        if (y1 > lat) != (y2 > lat) && lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1 {
            inside = !inside;
        }
    }
    inside
}

pub(super) fn on_segment(lat: f64, lon: f64, a: (f64, f64), b: (f64, f64)) -> bool {
    let cross = (b.0 - a.0) * (lon - a.1) - (b.1 - a.1) * (lat - a.0);
    cross.abs() < 1e-12
        && lat >= a.0.min(b.0)
        && lat <= a.0.max(b.0)
        && lon >= a.1.min(b.1)
        && lon <= a.1.max(b.1)
}
