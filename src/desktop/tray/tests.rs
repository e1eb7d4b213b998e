use std::time::Instant;

use super::badge::{self, Rgba};
use super::events::{menu_id, parse_menu_id};
use super::*;
use crate::fyers::model::{Event, Order, OrderStatus, Position};
use crate::store::Origin;

fn state(status: TrayStatus) -> TrayState {
    TrayState {
        status,
        open_orders: 12,
        total_pnl: 1_234.4,
        window_visible: false,
        muted: false,
    }
}

fn order(id: &str, status: OrderStatus) -> Event {
    Event::Order(Box::new(Order {
        id: id.into(),
        status: Some(status),
        update_time_epoch_oms: Some(1),
        ..Order::default()
    }))
}

fn position(id: &str, pl: f64) -> Event {
    Event::Position(Box::new(Position {
        id: id.into(),
        net_qty: Some(1),
        pl: Some(pl),
        ..Position::default()
    }))
}

#[test]
fn the_store_maps_onto_the_four_states() {
    let mut store = Store::default();
    let cases = [
        (
            ConnectionState::Connected {
                since: Instant::now(),
            },
            TrayStatus::Streaming,
        ),
        (ConnectionState::Connecting, TrayStatus::Reconnecting),
        (
            ConnectionState::Reconnecting {
                attempt: 2,
                next_at: Instant::now(),
                reason: "dropped".into(),
            },
            TrayStatus::Reconnecting,
        ),
        (ConnectionState::Disconnected, TrayStatus::Stopped),
        (
            ConnectionState::AuthRejected { reason: "403".into() },
            TrayStatus::SessionExpired,
        ),
    ];
    for (connection, status) in cases {
        store.connection = connection.clone();
        assert_eq!(
            TrayState::from_store(&store, true, false).status,
            status,
            "{connection:?}"
        );
    }
    store.connection = ConnectionState::Connected {
        since: Instant::now(),
    };
    store.session.expired = true;
    assert_eq!(
        TrayState::from_store(&store, true, false).status,
        TrayStatus::SessionExpired,
        "an expired session outranks a socket that has not noticed yet"
    );
}

#[test]
fn open_orders_and_pnl_come_from_the_aggregates() {
    let mut store = Store::default();
    store.apply_batch(
        vec![
            order("1", OrderStatus::Pending),
            order("2", OrderStatus::Transit),
            order("3", OrderStatus::Filled),
            position("p", 1_000.25),
            position("q", -250.0),
        ],
        Vec::new(),
        Origin::Socket,
    );
    let state = TrayState::from_store(&store, false, true);
    assert_eq!(state.open_orders, 2);
    assert!((state.total_pnl - 750.25).abs() < 1e-9);
    assert!(!state.window_visible);
    assert!(state.muted);
}

#[test]
fn the_tooltip_says_state_orders_and_pnl_to_the_rupee() {
    assert_eq!(
        state(TrayStatus::Streaming).tooltip(),
        "Orderwatch — streaming · 12 open orders · P&L ₹1,234.00"
    );
    let mut one = state(TrayStatus::Stopped);
    one.open_orders = 1;
    one.total_pnl = -123_456.5;
    assert_eq!(one.summary(), "stopped · 1 open order · P&L -₹1,23,457.00");
    let mut many = state(TrayStatus::SessionExpired);
    many.open_orders = 12_345;
    many.total_pnl = f64::NAN;
    assert_eq!(many.summary(), "session expired · 12,345 open orders · P&L —");
    assert!(
        state(TrayStatus::Reconnecting)
            .summary()
            .starts_with("reconnecting · ")
    );
}

#[test]
fn the_menu_offers_what_clicking_would_do() {
    let hidden_streaming = state(TrayStatus::Streaming);
    assert_eq!(
        hidden_streaming.menu_labels(),
        ["Show window", "Stop stream", "Mute notifications", "Quit"]
    );
    let shown_stopped = TrayState {
        window_visible: true,
        ..state(TrayStatus::Stopped)
    };
    assert_eq!(
        shown_stopped.menu_labels(),
        ["Hide window", "Start stream", "Mute notifications", "Quit"]
    );
    assert_eq!(state(TrayStatus::Reconnecting).stream_label(), "Stop stream");
    assert_eq!(state(TrayStatus::SessionExpired).stream_label(), "Start stream");
}

#[test]
fn only_stream_actions_are_feed_commands() {
    assert!(matches!(
        TrayAction::StartStream.command(),
        Some(Command::Connect)
    ));
    assert!(matches!(
        TrayAction::StopStream.command(),
        Some(Command::Disconnect)
    ));
    for action in [
        TrayAction::ShowWindow,
        TrayAction::HideWindow,
        TrayAction::ToggleMute,
        TrayAction::Quit,
    ] {
        assert!(action.command().is_none(), "{action:?}");
    }
}

#[test]
fn menu_ids_round_trip_and_foreign_ids_are_ignored() {
    for action in TrayAction::ALL {
        assert_eq!(parse_menu_id(menu_id(7, action).as_ref()), Some((7, action)));
    }
    for foreign in [
        "",
        "quit",
        "orderwatch-tray-x/quit",
        "orderwatch-tray-3/reboot",
        "other-3/quit",
    ] {
        assert_eq!(parse_menu_id(foreign), None, "{foreign}");
    }
}

#[test]
fn small_changes_do_not_count_as_changes() {
    let before = state(TrayStatus::Streaming);
    let tick = TrayState {
        total_pnl: 1_234.3,
        ..before.clone()
    };
    assert_eq!(before.shown(), tick.shown(), "P&L moved within the rupee");
    let rupee = TrayState {
        total_pnl: 1_235.0,
        ..before.clone()
    };
    assert_ne!(before.shown(), rupee.shown());
    let muted = TrayState {
        muted: true,
        ..before.clone()
    };
    assert_ne!(before.shown(), muted.shown());
}

fn base() -> Rgba {
    // A flat, half-transparent icon, so the badge's own pixels are easy to tell apart.
    Rgba {
        rgba: [40, 60, 80, 128].repeat(64 * 64),
        width: 64,
        height: 64,
    }
}

/// Which pixels the state's shape covers, at `size`: the badge without its colour.
fn mask(status: TrayStatus, size: u32) -> Vec<bool> {
    let scale = size as f32 / 64.0;
    (0..size * size)
        .map(|index| {
            let x = ((index % size) as f32 + 0.5) / scale - 45.0;
            let y = ((index / size) as f32 + 0.5) / scale - 45.0;
            badge::shape_distance(status, x, y) < 0.0
        })
        .collect()
}

#[test]
fn each_state_has_its_own_shape_even_at_22_px() {
    for size in [64, 22] {
        let masks: Vec<_> = TrayStatus::ALL.iter().map(|status| mask(*status, size)).collect();
        for (i, a) in masks.iter().enumerate() {
            assert!(
                a.iter().filter(|covered| **covered).count() >= 8,
                "{size} px: visible"
            );
            for b in &masks[i + 1..] {
                let differing = a.iter().zip(b).filter(|(a, b)| a != b).count();
                assert!(differing >= 6, "{size} px: shapes differ by {differing} pixels");
            }
        }
    }
}

#[test]
fn badges_differ_per_state_and_leave_the_rest_of_the_icon_alone() {
    let base = base();
    let rendered: Vec<_> = TrayStatus::ALL
        .iter()
        .map(|status| badge::render(&base, *status))
        .collect();
    for (i, a) in rendered.iter().enumerate() {
        assert_eq!((a.width, a.height, a.rgba.len()), (64, 64, base.rgba.len()));
        for b in &rendered[i + 1..] {
            assert_ne!(a.rgba, b.rgba);
        }
        // Top-left quarter: outside the badge.
        for y in 0..24 {
            let row = (y * 64 * 4) as usize;
            assert_eq!(a.rgba[row..row + 24 * 4], base.rgba[row..row + 24 * 4]);
        }
    }
    let pixel = |image: &Rgba, x: usize, y: usize| -> [u8; 4] {
        let at = (y * 64 + x) * 4;
        [
            image.rgba[at],
            image.rgba[at + 1],
            image.rgba[at + 2],
            image.rgba[at + 3],
        ]
    };
    let [r, g, b] = badge::colour(TrayStatus::Streaming);
    assert_eq!(
        pixel(&rendered[0], 45, 45),
        [r, g, b, 255],
        "the dot fills the centre"
    );
    assert_ne!(
        pixel(&rendered[1], 45, 45)[..3],
        badge::colour(TrayStatus::Reconnecting),
        "the ring is hollow"
    );
}

#[test]
fn the_app_icon_decodes_to_the_size_the_badge_is_drawn_for() {
    let icon = eframe::icon_data::from_png_bytes(include_bytes!("../../../assets/icons/orderwatch-64.png"))
        .expect("the embedded icon is a PNG");
    assert_eq!((icon.width, icon.height), (64, 64));
}
