"""Wire records become typed messages in one place, with poison sorted out there."""

from datetime import date

import pytest

from consumer import records
from devstack import sampledata
from mapping.register_day import CashMovement, GiftCardExpiry
from mapping.sales import Receipt
from service.messages import DayClosed, ManualExportRequested, RetryFailedExports
from storage import codecs
from tests.unit.consumer.samples import sales_records


def test_each_payload_type_decodes_to_its_typed_message() -> None:
    kinds = [type(records.sales_envelope(r).item) for r in sales_records()]
    assert kinds[:3] == [Receipt, Receipt, Receipt]
    assert set(kinds[3:]) == {CashMovement, GiftCardExpiry, DayClosed}


def test_returns_stay_positive_and_keep_their_kind() -> None:
    day = sampledata.store_day("o", "s", date(2026, 4, 1), 0, with_extras=False)
    record = day.envelope(
        sampledata.RECEIPT, sampledata.receipt_payload("r1", [("x", 2500, 12500)], "card", kind="RETURN")
    )
    receipt = records.sales_envelope(record).item
    assert isinstance(receipt, Receipt)
    assert receipt.kind == "return" and receipt.lines[0].gross_ore == 12500 and receipt.lines[0].vat_ore == 2500


def test_a_receipt_that_does_not_add_up_is_an_invalid_event() -> None:
    day = sampledata.store_day("o", "s", date(2026, 4, 1), 0, with_extras=False)
    payload = sampledata.receipt_payload("r1", [("x", 2500, 10000)], "card")
    payload["payments"][0]["amount_ore"] += 1
    with pytest.raises(records.InvalidEventError, match="1 öre"):
        records.sales_envelope(day.envelope(sampledata.RECEIPT, payload))


def test_negative_line_amounts_are_invalid_events() -> None:
    day = sampledata.store_day("o", "s", date(2026, 4, 1), 0, with_extras=False)
    payload = sampledata.receipt_payload("r1", [("x", 2500, -10000)], "card")
    with pytest.raises(records.InvalidEventError):
        records.sales_envelope(day.envelope(sampledata.RECEIPT, payload))


def test_stored_form_round_trips_every_item() -> None:
    for record in sales_records():
        env = records.sales_envelope(record)
        if isinstance(env.item, DayClosed):
            continue
        stored = codecs.item_to_json(env.item)
        assert codecs.item_from_json(env.kind, env.store_id, env.business_date, stored) == env.item


def test_commands_are_told_apart_by_type() -> None:
    manual = records.command(_decoded(sampledata.manual_export("o", "s1")))
    retry = records.command(_decoded(sampledata.manual_export("o", retry=True)))
    assert isinstance(manual, ManualExportRequested) and manual.store_id == "s1"
    assert isinstance(retry, RetryFailedExports) and retry.store_id is None


def _decoded(record: dict) -> dict:
    from consumer.codec import AvroCodec

    codec = AvroCodec("command", "t")
    return codec.decode(codec.encode(record))


def test_the_z_reports_drawer_figures_and_tip_payouts_decode_and_survive_storage() -> None:
    day = sampledata.store_day("o", "s", date(2026, 4, 1), 2)
    payout = next(records.sales_envelope(r).item for r in day.others if r["payload"][1].get("kind") == "TIP_PAYOUT")
    assert isinstance(payout, CashMovement) and (payout.kind, payout.cash_effect_ore) == ("tip_payout", -15000)
    closed = records.sales_envelope(_decoded_sales(day.day_closed())).item
    assert isinstance(closed, DayClosed)
    close = closed.day_close
    assert (close.opening_float_ore, close.cash_reported, close.gift_card_expired_total_ore) == (200_000, True, 25_000)
    stored = codecs.control_to_json(closed)
    assert codecs.day_close_from_json("s", close.business_date, close.z_report_number, stored) == close


def test_a_z_report_without_cash_figures_or_new_fields_is_read_as_not_reported() -> None:
    day = sampledata.store_day("o", "s", date(2026, 4, 1), 1, with_extras=False)
    name, payload = day.day_closed()["payload"]
    bare = {k: v for k, v in payload.items() if k not in ("opening_float_ore", "gift_card_expired_total_ore")}
    closed = records.sales_envelope(
        _decoded_sales(day.envelope(name, {**bare, "expected_cash_ore": None, "counted_cash_ore": None}))
    ).item
    assert isinstance(closed, DayClosed)
    close = closed.day_close
    assert (close.cash_reported, close.opening_float_ore, close.gift_card_expired_total_ore) == (False, 0, None)
    # Day closes stored before the drawer was reconciled carry no cash_reported: not reconciled.
    old = {k: v for k, v in codecs.control_to_json(closed).items() if k != "cash_reported"}
    assert codecs.day_close_from_json("s", close.business_date, close.z_report_number, old).cash_reported is False


def _decoded_sales(record: dict) -> dict:
    from consumer.codec import AvroCodec

    codec = AvroCodec("sales_event", "t")
    return codec.decode(codec.encode(record))


def test_an_expired_single_purpose_card_names_its_type_and_rate_on_the_wire_and_in_storage() -> None:
    """Issue #21, finding 6: the expiry carries the card's type (the method that redeems it) and the rate it was
    sold at; one without them (an older POS) is a multi-purpose card, with the stored form it always had."""
    day = sampledata.store_day("o", "s", date(2026, 4, 1), 0, with_extras=False)
    payload = {"gift_card_id": "g1", "amount_ore": 60_000, "payment_method": "massage_card", "vat_rate_bp": 2500}
    expiry = records.sales_envelope(_decoded_sales(day.envelope(sampledata.GIFT_CARD_EXPIRED, payload))).item
    assert isinstance(expiry, GiftCardExpiry)
    assert (expiry.method, expiry.vat_rate, expiry.vat_ore) == ("massage_card", 2500, 12_000)
    assert codecs.item_from_json("gift_card_expired", "s", day.business_date, codecs.item_to_json(expiry)) == expiry
    plain = records.sales_envelope(
        _decoded_sales(day.envelope(sampledata.GIFT_CARD_EXPIRED, {"gift_card_id": "g2", "amount_ore": 100}))
    ).item
    assert isinstance(plain, GiftCardExpiry) and (plain.method, plain.vat_rate, plain.vat_ore) == ("gift_card", None, 0)
    assert codecs.item_to_json(plain) == {"expiry_id": "g2", "amount_ore": 100}
