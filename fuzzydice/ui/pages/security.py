"""`/user/security`: confirm with a fresh second factor, then change factors and identities."""

from __future__ import annotations

import asyncio

import reflex as rx

from fuzzydice import journey
from fuzzydice.auth import identities, step_up
from fuzzydice.mfa import flows as mfa_flows
from fuzzydice.auth.password_pool import run_password_flow
from fuzzydice.mfa.qr import qr_svg_data_uri
from fuzzydice.outcome import Code, fail
from fuzzydice.ratelimit import wait_in_words
from fuzzydice.services import get_services
from fuzzydice.ui import routes, wallet_scripts
from fuzzydice.ui.app_shell import app_shell, shell_card
from fuzzydice.ui.components import form_error, labelled_input, submit_button
from fuzzydice.ui.event_payloads import REFUSED_MESSAGE, text_field
from fuzzydice.ui.messages import explain, field_messages
from fuzzydice.ui.page_spec import Page
from fuzzydice.ui.session_state import SessionState
from fuzzydice.ui.wallet_signin import MAX_ADDRESS_CHARS, MAX_SIGNATURE_CHARS, challenge_from_connect


class SecurityState(rx.State):
    """This user's identities and the sensitive changes, behind a fresh second factor."""

    fresh: bool = False
    wallets: list[str] = []
    """The account's wallet addresses (EIP-55), in the order they were linked."""
    email: str = ""
    has_password: bool = False
    can_unlink: bool = False
    """The account has more than one way in: any one of them may go."""
    wallet_signed: bool = False
    use_backup: bool = False
    can_switch: bool = False
    error: str = ""
    notice: str = ""
    busy: bool = False
    reenrol_qr: str = ""
    reenrol_key: str = ""
    email_error: str = ""
    password_error: str = ""
    _wallet_id: str = ""
    _wallet_purpose: str = ""
    _nonce: str = ""

    async def _session_ids(self) -> tuple[int | None, int | None]:
        session = await self.get_state(SessionState)
        return session._user_id, session._session_id

    async def _refresh(self) -> None:
        user_id, session_id = await self._session_ids()
        if user_id is None:
            return
        info = await asyncio.to_thread(identities.overview, get_services(), session_id=session_id, user_id=user_id)
        self.wallets, self.email = list(info.wallets), info.email
        self.has_password, self.fresh = info.has_password, info.fresh
        self.can_unlink = info.can_unlink

    @rx.event
    async def on_load(self):
        """Show the identities; follow the session like every signed-in page."""
        self.error = self.notice = self.reenrol_qr = self.reenrol_key = ""
        self.wallet_signed = self.busy = False
        # The account's usable second factors, best first (as the sign-in's second step offers them).
        session = await self.get_state(SessionState)
        methods = journey.second_factor_methods(session._factors, None)
        self.can_switch = mfa_flows.TOTP in methods and mfa_flows.BACKUP in methods
        self.use_backup = methods[:1] == (mfa_flows.BACKUP,)
        await self._refresh()
        return SessionState.watch_session

    @rx.event
    def toggle_backup(self):
        """Switch between the authenticator code and a backup code (when the account has both)."""
        if self.can_switch:
            self.use_backup, self.error = not self.use_backup, ""

    # --- the fresh second factor ------------------------------------------------
    @rx.event
    async def confirm(self, form: dict):
        """Check the code; a wallet account must have signed a fresh message first."""
        user_id, session_id = await self._session_ids()
        if user_id is None or self.busy:
            return
        self.busy, self.error = True, ""
        yield
        code = text_field(form, "backup_code" if self.use_backup else "step_up_code")
        method = mfa_flows.BACKUP if self.use_backup else mfa_flows.TOTP
        result = await asyncio.to_thread(
            step_up.confirm_second_factor, get_services(), session_id=session_id, user_id=user_id, code=code, method=method
        )
        self.busy = False
        if not result.ok:
            self.error = explain(result)
            return
        lifetime = wait_in_words(get_services().settings.step_up_lifetime)
        self.notice = f"Confirmed. You can make changes for the next {lifetime}."
        await self._refresh()

    # --- wallet signatures (fresh confirmation and linking) ----------------------
    @rx.event
    def sign_with_wallet(self, purpose: str):
        """Find the wallet and have it sign a `reauth` or `link` message (ignored while a request runs: one signature)."""
        if purpose not in ("reauth", "link"):
            self.error = REFUSED_MESSAGE
            return
        if self.busy:
            return
        self._wallet_purpose, self.error, self.busy = purpose, "", True
        return rx.call_script(wallet_scripts.DISCOVER, callback=SecurityState.wallet_found)

    @rx.event
    def wallet_found(self, found: list):
        """Use the first wallet on the page."""
        first = next((w for w in (found or []) if isinstance(w, dict) and w.get("id")), None)
        if first is None:
            self.busy, self.error = False, "No wallet found in this browser."
            return
        self._wallet_id = str(first["id"])[:200]
        networks = get_services().settings.active_networks  # a wallet on another network is asked to switch
        return rx.call_script(
            wallet_scripts.connect_script(self._wallet_id, networks), callback=SecurityState.wallet_connected
        )

    @rx.event
    async def wallet_connected(self, result: dict):
        """Build the message for this account and ask for the signature."""
        user_id, _ = await self._session_ids()
        if user_id is None:
            return
        address, challenge, problem = await challenge_from_connect(
            result,
            origin=self.router.headers.origin,
            binding=self.router.session.client_token,
            purpose=self._wallet_purpose,
            user_id=user_id,
        )
        if challenge is None:
            self.busy, self.error = False, problem
            return
        self._nonce = challenge.nonce
        return rx.call_script(
            wallet_scripts.sign_script(self._wallet_id, challenge.message, address), callback=SecurityState.wallet_signed_message
        )

    @rx.event
    async def wallet_signed_message(self, result: dict):
        """Verify the signature for the purpose it was asked for."""
        result = result if isinstance(result, dict) else {}
        user_id, session_id = await self._session_ids()
        nonce, self._nonce = self._nonce, ""
        if result.get("error") or user_id is None or not nonce:
            self.busy = False
            self.error = wallet_scripts.wallet_error_message(str(result.get("error", "")), str(result.get("message", "")))
            return
        args = {
            "session_id": session_id, "user_id": user_id, "nonce": nonce,
            "signature": text_field(result, "signature", MAX_SIGNATURE_CHARS), "binding": self.router.session.client_token,
        }
        if self._wallet_purpose == "link":
            outcome = await asyncio.to_thread(identities.link_wallet, get_services(), **args)
            message = "Wallet linked: you can now sign in with it too. Other sessions were signed out."
        else:
            outcome = await asyncio.to_thread(step_up.confirm_wallet, get_services(), **args)
            self.wallet_signed = outcome.ok
            message = "Signed. Now enter a code from your authenticator app."
        self.busy = False
        self.error, self.notice = ("", message) if outcome.ok else (explain(outcome), "")
        await self._refresh()

    # --- the changes --------------------------------------------------------------
    async def _change(self, action, success: str, **args):
        user_id, session_id = await self._session_ids()
        if user_id is None:
            return
        outcome = await asyncio.to_thread(action, get_services(), session_id=session_id, user_id=user_id, **args)
        self.error, self.notice = ("", success) if outcome.ok else (explain(outcome), "")
        await self._refresh()

    @rx.event
    async def new_backup_codes(self):
        """Replace the backup codes and show the new ones."""
        user_id, session_id = await self._session_ids()
        if user_id is None:
            return
        result = await asyncio.to_thread(
            mfa_flows.regenerate_backup_codes, get_services(), user_id=user_id, session_id=session_id
        )
        if not result.ok:
            self.error = explain(result)
            return
        return rx.redirect(routes.BACKUP_CODES)

    @rx.event
    async def start_reenrolment(self):
        """Show a new secret to scan; the old one works until the new one is confirmed."""
        user_id, session_id = await self._session_ids()
        if user_id is None:
            return
        outcome = await asyncio.to_thread(
            mfa_flows.pending_enrolment, get_services(), user_id=user_id, session_id=session_id, replacing=True
        )
        if not outcome.ok:
            self.error = explain(outcome)
            return
        enrolment = outcome.value
        self.reenrol_qr = await asyncio.to_thread(qr_svg_data_uri, enrolment.uri)
        self.reenrol_key, self.error = enrolment.grouped_secret, ""

    @rx.event
    async def finish_reenrolment(self, form: dict):
        """Confirm the new authenticator with a code from it."""
        user_id, session_id = await self._session_ids()
        if user_id is None:
            return
        result = await asyncio.to_thread(
            mfa_flows.activate_totp, get_services(), user_id=user_id, session_id=session_id,
            code=text_field(form, "new_code"),
        )
        if not result.ok:
            self.error = explain(result)
            return
        self.reenrol_qr = self.reenrol_key = ""
        self.error, self.notice = "", "New authenticator set up. The old one no longer works; other sessions were signed out."

    @rx.event
    async def unlink_wallet(self, address: str):
        """Remove one wallet (the core checks that it is this account's and not its last way in)."""
        if len(address) > MAX_ADDRESS_CHARS:  # no address of this account is that long
            self.error, self.notice = explain(fail(Code.IDENTITY_NOT_FOUND)), ""
            return
        await self._change(
            identities.unlink_wallet, "Wallet unlinked. Other sessions were signed out.", address=address
        )

    @rx.event
    async def unlink_password(self):
        """Remove the email and password identity."""
        await self._change(identities.unlink_password, "Email and password removed. Other sessions were signed out.")

    @rx.event
    async def add_password(self, form: dict):
        """Add an email and password to a wallet account."""
        user_id, session_id = await self._session_ids()
        if user_id is None:
            return
        services = get_services()
        outcome = await run_password_flow(  # it hashes: kept off the default executor the guard uses
            services.settings, identities.add_password, services, session_id=session_id, user_id=user_id,
            email=text_field(form, "new_email"), password=text_field(form, "new_password"), when_busy=fail(Code.BUSY),
        )
        fields = {} if outcome.ok else field_messages(outcome)
        self.email_error, self.password_error = fields.get("email", ""), fields.get("password", "")
        self.error = "" if outcome.ok or fields else explain(outcome)
        if outcome.ok:
            self.notice = "Email and password added: you can now sign in with them too. Other sessions were signed out."
        await self._refresh()


def _confirm_section() -> rx.Component:
    return rx.vstack(
        rx.text("Changes here need a fresh confirmation that it's you.", size="2"),
        rx.cond(
            (SecurityState.wallets.length() > 0) & ~SecurityState.wallet_signed,
            rx.button(
                "Sign with your wallet", on_click=SecurityState.sign_with_wallet("reauth"), variant="outline",
                loading=SecurityState.busy, disabled=SecurityState.busy,
            ),
        ),
        rx.form(
            rx.vstack(
                rx.cond(
                    SecurityState.use_backup,
                    labelled_input("Backup code", "backup_code", auto_complete="off"),
                    labelled_input(
                        "Authenticator code", "step_up_code", input_mode="numeric", auto_complete="one-time-code",
                    ),
                ),
                submit_button("Confirm", SecurityState.busy),
                width="100%",
            ),
            on_submit=SecurityState.confirm,
            reset_on_submit=True,
            width="100%",
        ),
        rx.cond(
            SecurityState.can_switch,
            rx.button(
                rx.cond(SecurityState.use_backup, "Use the authenticator app instead", "Use a backup code instead"),
                on_click=SecurityState.toggle_backup, variant="ghost", size="2",
            ),
        ),
        width="100%",
    )


def _wallet_row(address: rx.Var[str]) -> rx.Component:
    """One linked wallet, with its own Unlink button while another way in remains."""
    return rx.hstack(
        rx.text("Wallet ", rx.code(address, class_name="linked-wallet")),
        rx.cond(
            SecurityState.can_unlink,
            rx.button(
                "Unlink",
                on_click=SecurityState.unlink_wallet(address),
                variant="soft",
                color_scheme="red",
                aria_label="Unlink wallet " + address,
            ),
        ),
        wrap="wrap",
        role="group",
        aria_label="Wallet " + address,
    )


def _changes_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Second factor", size="4", as_="h2"),
        rx.hstack(
            rx.button("New backup codes", on_click=SecurityState.new_backup_codes, variant="outline"),
            rx.button("Set up a new authenticator", on_click=SecurityState.start_reenrolment, variant="outline"),
            wrap="wrap",
        ),
        rx.cond(
            SecurityState.reenrol_key != "",
            rx.vstack(
                rx.image(src=SecurityState.reenrol_qr, alt="QR code for your new authenticator", width="200px"),
                rx.code(SecurityState.reenrol_key, id="new-manual-key"),
                rx.form(
                    rx.hstack(
                        labelled_input("Code from the new authenticator", "new_code", input_mode="numeric",
                                       auto_complete="one-time-code"),
                        rx.button("Confirm new authenticator", type="submit"),
                        align="end",
                    ),
                    on_submit=SecurityState.finish_reenrolment,
                    reset_on_submit=True,
                ),
            ),
        ),
        rx.heading("Ways to sign in", size="4", as_="h2"),
        rx.foreach(SecurityState.wallets, _wallet_row),
        rx.button(
            rx.cond(SecurityState.wallets.length() > 0, "Link another wallet", "Link a wallet"),
            on_click=SecurityState.sign_with_wallet("link"),
            variant="outline",
            loading=SecurityState.busy,
            disabled=SecurityState.busy,
        ),
        rx.cond(
            SecurityState.has_password,
            rx.hstack(
                rx.text("Email and password ", rx.code(SecurityState.email)),
                rx.cond(
                    SecurityState.can_unlink,
                    rx.button("Remove password", on_click=SecurityState.unlink_password, variant="soft", color_scheme="red"),
                ),
                wrap="wrap",
            ),
            rx.form(
                rx.vstack(
                    labelled_input("Email", "new_email", type="email", auto_complete="username", error=SecurityState.email_error),
                    labelled_input("New password", "new_password", type="password", auto_complete="new-password",
                                   error=SecurityState.password_error),
                    rx.button("Add email and password", type="submit", variant="outline"),
                    width="100%",
                ),
                on_submit=SecurityState.add_password,
                width="100%",
            ),
        ),
        width="100%",
        spacing="3",
    )


def security_page() -> rx.Component:
    """The security page."""
    return app_shell(
        shell_card(
            rx.cond(
                SecurityState.notice != "",
                rx.callout(SecurityState.notice, icon="info", color_scheme="green", role="status", width="100%"),
            ),
            form_error(SecurityState.error),
            rx.cond(SecurityState.fresh, _changes_section(), _confirm_section()),
            rx.link("Back to home", href=routes.USER_HOME),
        ),
        heading="Security",
        current=routes.SECURITY,
        width="40rem",
    )


PAGE = Page(
    route=routes.SECURITY,
    title="Security · Fuzzy Dice",
    access="full",
    component=security_page,
    on_load=(SecurityState.on_load,),
    states=(SecurityState,),
)
