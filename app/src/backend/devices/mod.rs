pub mod build_detail;
pub mod check_ins;
pub mod reports;
pub mod update_check;
