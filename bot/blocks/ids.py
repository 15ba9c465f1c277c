"""Action, view and block ids shared by the Block Kit builders and the listeners."""

# Buttons on a commitment (value: the commitment's reference number)
DELIVER = "commitment_deliver"
NEW_DATE = "commitment_new_date"
UNDO = "commitment_undo"
ACCEPT = "commitment_accept"
DECLINE = "commitment_decline"
PROPOSE_DATE = "commitment_propose_date"
RECEIVED = "delivery_received"
NOT_YET = "delivery_not_yet"
LIST_PAGE = "commitment_list_page"  # value: JSON {"filter": ..., "page": n}

# Modals (callback ids)
CREATE_MODAL = "commitment_create"
DELIVER_MODAL = "commitment_deliver_modal"
MOVE_MODAL = "commitment_move_modal"
DISPUTE_MODAL = "delivery_dispute_modal"

# The message shortcut in manifest.yml
MAKE_COMMITMENT_SHORTCUT = "make_commitment"

# Nudge buttons (value: the commitment's reference number)
SNOOZE = "nudge_snooze"
CANT_DELIVER = "nudge_cant_deliver"
CANT_DELIVER_MODAL = "nudge_cant_deliver_modal"
