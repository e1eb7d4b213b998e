//! The code enums of PROTOCOL.md §2 with readable names. Unknown codes are kept (`Other`), never
//! rejected: Fyers adds codes without notice and a monitor must still show the order.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An enum carried on the wire as an integer code.
macro_rules! int_code {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal => $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            Other(i64),
        }

        impl $name {
            pub fn from_code(code: i64) -> Self {
                match code {
                    $($code => Self::$variant,)+
                    other => Self::Other(other),
                }
            }

            pub fn code(self) -> i64 {
                match self {
                    $(Self::$variant => $code,)+
                    Self::Other(code) => code,
                }
            }

            /// What a user reads.
            pub fn label(self) -> std::borrow::Cow<'static, str> {
                match self {
                    $(Self::$variant => std::borrow::Cow::Borrowed($label),)+
                    Self::Other(code) => std::borrow::Cow::Owned(format!("code {code}")),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.code())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                i64::deserialize(deserializer).map(Self::from_code)
            }
        }
    };
}

/// An enum carried on the wire as a short string.
macro_rules! str_code {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal => $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            Other(compact_str::CompactString),
        }

        impl $name {
            pub fn from_code(code: &str) -> Self {
                match code {
                    $($code => Self::$variant,)+
                    other => Self::Other(other.into()),
                }
            }

            pub fn code(&self) -> &str {
                match self {
                    $(Self::$variant => $code,)+
                    Self::Other(code) => code,
                }
            }

            /// What a user reads.
            pub fn label(&self) -> &str {
                match self {
                    $(Self::$variant => $label,)+
                    Self::Other(code) => code,
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.code())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let code = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(Self::from_code(&code))
            }
        }
    };
}

int_code!(
    /// The user-facing order status (raw `org_ord_status`, friendly `status`).
    OrderStatus {
        Cancelled = 1 => "Cancelled",
        Filled = 2 => "Filled",
        Unused = 3 => "Unused",
        Transit = 4 => "Transit",
        Rejected = 5 => "Rejected",
        Pending = 6 => "Pending",
        Expired = 7 => "Expired",
    }
);

impl OrderStatus {
    /// No further update can change a terminal order.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Cancelled | Self::Filled | Self::Rejected | Self::Expired
        )
    }

    /// How far along its life an order is; an update may never move an order backwards.
    pub fn progress_rank(self) -> u8 {
        match self {
            Self::Transit => 0,
            Self::Pending | Self::Unused | Self::Other(_) => 1,
            Self::Cancelled | Self::Filled | Self::Rejected | Self::Expired => 2,
        }
    }
}

int_code!(
    /// Raw `ord_type`, friendly `type` (orders) or `orderType` (trades).
    OrderType {
        Limit = 1 => "Limit",
        Market = 2 => "Market",
        Stop = 3 => "SL-M",
        StopLimit = 4 => "SL-L",
    }
);

int_code!(
    /// Raw `tran_side` of an order or trade.
    Side {
        Buy = 1 => "Buy",
        Sell = -1 => "Sell",
    }
);

int_code!(
    /// Raw `tran_side` of a position.
    PositionSide {
        Long = 1 => "Long",
        Short = -1 => "Short",
        Closed = 0 => "Closed",
    }
);

int_code!(
    Exchange {
        Nse = 10 => "NSE",
        Mcx = 11 => "MCX",
        Bse = 12 => "BSE",
    }
);

int_code!(
    Segment {
        CapitalMarket = 10 => "Capital market",
        Derivatives = 11 => "Equity derivatives",
        Currency = 12 => "Currency",
        Commodity = 20 => "Commodity",
    }
);

str_code!(
    ProductType {
        Cnc = "CNC" => "CNC",
        Intraday = "INTRADAY" => "Intraday",
        Margin = "MARGIN" => "Margin",
        CoverOrder = "CO" => "Cover order",
        BracketOrder = "BO" => "Bracket order",
        Mtf = "MTF" => "MTF",
    }
);

str_code!(
    /// Where an order was placed from.
    OrderSource {
        Mobile = "M" => "Mobile",
        Web = "W" => "Web",
        FyersOne = "R" => "Fyers One",
        Admin = "A" => "Admin",
        Api = "API" => "API",
        Its = "ITS" => "API",
    }
);

str_code!(
    Validity {
        Day = "DAY" => "Day",
        Ioc = "IOC" => "IOC",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_round_trip() {
        let status: OrderStatus = serde_json::from_str("42").unwrap();
        assert_eq!(status, OrderStatus::Other(42));
        assert_eq!(serde_json::to_string(&status).unwrap(), "42");
        let product: ProductType = serde_json::from_str("\"XYZ\"").unwrap();
        assert_eq!(product, ProductType::Other("XYZ".into()));
        assert_eq!(serde_json::to_string(&product).unwrap(), "\"XYZ\"");
    }

    #[test]
    fn known_codes_have_names() {
        assert_eq!(OrderStatus::from_code(2), OrderStatus::Filled);
        assert_eq!(OrderType::from_code(4), OrderType::StopLimit);
        assert_eq!(Side::from_code(-1), Side::Sell);
        assert_eq!(Exchange::from_code(10), Exchange::Nse);
        assert_eq!(Segment::from_code(11), Segment::Derivatives);
        assert_eq!(ProductType::from_code("INTRADAY"), ProductType::Intraday);
        assert_eq!(PositionSide::from_code(0), PositionSide::Closed);
    }

    #[test]
    fn wrong_type_is_an_error() {
        assert!(serde_json::from_str::<OrderStatus>("\"2\"").is_err());
        assert!(serde_json::from_str::<ProductType>("7").is_err());
    }

    #[test]
    fn terminal_states_outrank_live_ones() {
        assert!(OrderStatus::Filled.progress_rank() > OrderStatus::Pending.progress_rank());
        assert!(OrderStatus::Pending.progress_rank() > OrderStatus::Transit.progress_rank());
        assert!(OrderStatus::Rejected.is_terminal());
        assert!(!OrderStatus::Pending.is_terminal());
    }
}
