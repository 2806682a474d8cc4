"""Corporate actions through the API: every role reads them, by instrument, page by page."""

from datetime import date

from tests.support.api import Api

URL = "/api/v1/corporate-actions"


def _announce(api: Api) -> None:
    actions = api.context.corporate_actions
    assert actions is not None
    actions.announce("AAPL", "split", date(2025, 12, 10), ratio=(4, 1))
    actions.announce("MSTR", "cash_dividend", date(2025, 12, 5), amount="0.25")
    actions.announce("AAPL", "reverse_split", date(2025, 12, 19), ratio=(1, 2))


def test_every_role_lists_the_actions_by_ex_date_page_by_page(api: Api) -> None:
    _announce(api)

    for key in (api.operator, api.participant, api.retail):
        first = api.client.get(URL, params={"limit": 2}, headers=key).json()
        rest = api.client.get(URL, params={"limit": 2, "cursor": first["next_cursor"]}, headers=key).json()

        items = first["items"] + rest["items"]
        assert [(a["ticker"], a["kind"]) for a in items] == [
            ("MSTR", "cash_dividend"),
            ("AAPL", "split"),
            ("AAPL", "reverse_split"),
        ]
        assert rest["next_cursor"] is None


def test_an_action_shows_its_ratio_or_its_amount(api: Api) -> None:
    _announce(api)

    items = api.client.get(URL, params={"ticker": "aapl"}, headers=api.retail).json()["items"]
    dividend = api.client.get(URL, params={"ticker": "MSTR"}, headers=api.retail).json()["items"][0]

    assert [(a["ratio"], a["amount"]) for a in items] == [("4:1", None), ("1:2", None)]
    assert items[0]["ex_date"] == "2025-12-10"
    assert items[0]["state"] == "announced"
    assert (dividend["ratio"], dividend["amount"]) == (None, "0.25")


def test_bad_filters_are_refused_and_keys_are_needed(api: Api) -> None:
    assert api.client.get(URL, params={"ticker": "$$"}, headers=api.retail).status_code == 422
    assert api.client.get(URL, params={"limit": 0}, headers=api.retail).status_code == 422
    assert api.client.get(URL).status_code == 401
