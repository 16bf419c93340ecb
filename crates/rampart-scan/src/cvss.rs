//! CVSS vectors: v3.0/v3.1 parsed and scored (base score, the
//! specification's formulas and rounding), v4.0 parsed and checked
//! (its score needs the specification's macro-vector tables; reports
//! carry it, so it is taken from them).
