//! The engine: state, `apply_block`, accounts and collateral actions, queries.
//!
//! # What the chain reads after a block
//! * [`Engine::take_dirty_accounts`]: the accounts whose committed state may have changed since
//!   the previous call, sorted and deduplicated; a superset of those whose
//!   [`crate::AccountSnapshot`] changed, never a subset (contract and mechanism in `dirty.rs`).
//!   It covers everything that changes accounts: actions, fills on either side, expiries, the
//!   liquidation pass (watch, waterfall, auctions, insurance takeovers, ADL), funding settled on
//!   fills, and calls between blocks (`add_market`, `seed_insurance`).
//! * [`Engine::account_snapshot`] for each of them, [`Engine::market_snapshot`] for every market
//!   and [`Engine::global_snapshot`] (`snapshot.rs` specifies what they hold).
//!
//! The engine is `Clone`: a clone is a full, independent copy (speculative execution of a block
//! that may not become final), dirty set included.

use std::collections::BTreeMap;

use novation_book::Event as BookEvent;
use novation_risk::{withdrawal_requirement, MathError, TryArith};
use novation_types::{AccountId, Address, Now, PriceTicks, Quote};

use crate::account::{Account, Bucket};
use crate::action::{Action, AuctionId, BlockContext, MarketId, SubaccountId, Tx};
use crate::dirty::DirtySet;
use crate::event::{BucketId, Event, MarketStatus, Rejection, StatusCause};
use crate::liquidation::{Auction, LiquidationState};
use crate::market::Market;
use crate::params::{EngineParams, MarketParams, ParamsError};
use crate::valuation::{bucket_value, Valuation};

/// The address that owns the insurance-fund accounts (subaccount = market id). No key hashes
/// to it in practice; the engine never accepts actions from it.
pub const INSURANCE_ADDRESS: Address = Address([0xff; 20]);

/// The account directory's key: an address read as big-endian integers (same order as the
/// bytes, compared without a `memcmp` call) and the subaccount.
pub(crate) type DirectoryKey = (u128, u32, SubaccountId);

pub(crate) fn directory_key(owner: Address, sub: SubaccountId) -> DirectoryKey {
    let b = owner.0;
    let mut high = [0u8; 16];
    high.copy_from_slice(&b[..16]);
    let mut low = [0u8; 4];
    low.copy_from_slice(&b[16..]);
    (u128::from_be_bytes(high), u32::from_be_bytes(low), sub)
}

/// Why a whole block was refused (nothing changed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("block height {got} does not follow {last}")]
    Height { last: u64, got: u64 },
    #[error("block time {got} ms is before the previous block's {last} ms")]
    TimeWentBackwards { last: u64, got: u64 },
    #[error("index price for unknown market {0:?}")]
    UnknownMarket(MarketId),
    #[error("two index prices for market {0:?}")]
    DuplicateIndex(MarketId),
}

/// The exchange state machine.
#[derive(Clone, Debug)]
pub struct Engine {
    pub(crate) params: EngineParams,
    pub(crate) markets: Vec<Market>,
    pub(crate) accounts: Vec<Account>,
    pub(crate) directory: BTreeMap<DirectoryKey, AccountId>,
    /// Fees collected minus rebates paid.
    pub(crate) fee_pool: Quote,
    pub(crate) deposits: Quote,
    pub(crate) withdrawals: Quote,
    pub(crate) next_order_id: u64,
    pub(crate) next_auction_id: u64,
    pub(crate) now: Now,
    pub(crate) started: bool,
    /// Buckets in the liquidation waterfall.
    pub(crate) liquidations: BTreeMap<(AccountId, BucketId), LiquidationState>,
    /// The last bucket the waterfall stepped (round robin).
    pub(crate) liquidation_cursor: Option<(AccountId, BucketId)>,
    /// Open takeover auctions.
    pub(crate) auctions: BTreeMap<AuctionId, Auction>,
    pub(crate) events: Vec<Event>,
    pub(crate) book_events: Vec<BookEvent>,
    /// Buckets whose cash or positions changed during the current action: re-watched after it.
    pub(crate) touched: Vec<(AccountId, BucketId)>,
    /// Buckets whose resting lots changed: empty legs are dropped after the action.
    pub(crate) tidy: Vec<(AccountId, BucketId)>,
    /// Accounts changed since the last [`Engine::take_dirty_accounts`] (`dirty.rs`).
    pub(crate) dirty: DirtySet,
}

impl Engine {
    /// An engine with no markets and no accounts.
    pub fn new(params: EngineParams) -> Result<Engine, ParamsError> {
        params.validate()?;
        Ok(Engine {
            params,
            markets: Vec::new(),
            accounts: Vec::new(),
            directory: BTreeMap::new(),
            fee_pool: Quote::ZERO,
            deposits: Quote::ZERO,
            withdrawals: Quote::ZERO,
            next_order_id: 1,
            next_auction_id: 1,
            now: Now::new(0, 0),
            started: false,
            liquidations: BTreeMap::new(),
            liquidation_cursor: None,
            auctions: BTreeMap::new(),
            events: Vec::new(),
            book_events: Vec::new(),
            touched: Vec::new(),
            tidy: Vec::new(),
            dirty: DirtySet::default(),
        })
    }

    /// Adds a market (genesis or governance) and its insurance-fund account.
    pub fn add_market(&mut self, params: MarketParams) -> Result<MarketId, ParamsError> {
        params.validate()?;
        if self.markets.len() >= usize::from(self.params.markets_max) {
            return Err(ParamsError::Engine("markets_max"));
        }
        if self.markets.iter().any(|m| m.params.symbol == params.symbol) {
            return Err(ParamsError::BadSymbol);
        }
        let id = MarketId(self.markets.len() as u16);
        let insurance = self
            .account_or_create(INSURANCE_ADDRESS, id.0)
            .map_err(|_| ParamsError::Engine("accounts_max"))?;
        self.markets.push(Market::new(id, params, insurance));
        Ok(id)
    }

    /// Credits a market's insurance fund at genesis (counted as a deposit).
    pub fn seed_insurance(&mut self, market: MarketId, amount: Quote) -> Result<(), Rejection> {
        let m = self.market(market).ok_or(Rejection::UnknownMarket)?;
        if amount.0 <= 0 || amount > self.params.deposit_max {
            return Err(Rejection::InvalidAmount);
        }
        let insurance = m.insurance;
        self.credit(insurance, amount)?;
        Ok(())
    }

    /// Sets a market's governance status.
    pub fn set_market_status(
        &mut self,
        market: MarketId,
        status: MarketStatus,
    ) -> Result<(), Rejection> {
        let m = self.markets.get_mut(usize::from(market.0)).ok_or(Rejection::UnknownMarket)?;
        m.base_status = status;
        let effective =
            if m.breaker.is_some() { status.max(MarketStatus::ReduceOnly) } else { status };
        let mut events = Vec::new();
        m.set_status(effective, StatusCause::Governance, &mut events);
        self.events.extend(events);
        Ok(())
    }

    /// Executes one block: prices, expiries, the liquidation pass, then the actions
    /// (cancels and post-only orders first, then the rest, each phase in submission order).
    /// Returns the block's events. On `Err` nothing changed.
    pub fn apply_block(
        &mut self,
        ctx: &BlockContext,
        txs: &[Tx],
    ) -> Result<Vec<Event>, BlockError> {
        self.check_context(ctx)?;
        self.started = true;
        self.now = Now::new(ctx.height, ctx.time_ms);
        // `self.events` may already hold events of calls made between blocks (governance);
        // they are reported with this block.
        for i in 0..self.markets.len() {
            let index =
                ctx.index_prices.iter().find(|(m, _)| usize::from(m.0) == i).map(|(_, p)| *p);
            let mut events = Vec::new();
            let result = self.markets[i].begin_block(ctx.height, ctx.time_ms, index, &mut events);
            self.events.extend(events);
            if result.is_err() {
                self.fault(MarketId(i as u16));
            }
        }
        self.expire_orders();
        self.liquidation_pass();
        let limit = self.params.actions_per_block_max as usize;
        let first = txs.iter().enumerate().filter(|(_, t)| t.action.is_first_phase());
        let second = txs.iter().enumerate().filter(|(_, t)| !t.action.is_first_phase());
        for (i, tx) in first.chain(second) {
            let index = i as u32;
            let result = if i >= limit {
                Err(Rejection::TooManyActions)
            } else {
                self.apply_action(index, tx)
            };
            if let Err(reason) = result {
                self.events.push(Event::Rejected { index, reason });
            }
            self.tidy_legs();
        }
        // Buckets the actions changed are re-evaluated once, at the end of the phase: the
        // watch only matters to the next block's liquidation pass, and every action that could
        // add risk was margin-checked on its own.
        self.after_action();
        self.market_sanity();
        #[cfg(debug_assertions)]
        if let Err(e) = self.check_invariants() {
            panic!("engine invariant broken at height {}: {e}", ctx.height);
        }
        Ok(core::mem::take(&mut self.events))
    }

    fn check_context(&self, ctx: &BlockContext) -> Result<(), BlockError> {
        if self.started && ctx.height <= self.now.height {
            return Err(BlockError::Height { last: self.now.height, got: ctx.height });
        }
        if self.started && ctx.time_ms < self.now.time_ms {
            return Err(BlockError::TimeWentBackwards { last: self.now.time_ms, got: ctx.time_ms });
        }
        let mut seen = Vec::with_capacity(ctx.index_prices.len());
        for (m, _) in &ctx.index_prices {
            if usize::from(m.0) >= self.markets.len() {
                return Err(BlockError::UnknownMarket(*m));
            }
            if seen.contains(m) {
                return Err(BlockError::DuplicateIndex(*m));
            }
            seen.push(*m);
        }
        Ok(())
    }

    fn apply_action(&mut self, index: u32, tx: &Tx) -> Result<(), Rejection> {
        if tx.sender == INSURANCE_ADDRESS {
            return Err(Rejection::UnknownAccount);
        }
        match &tx.action {
            Action::Deposit { sub, amount } => self.deposit(tx.sender, *sub, *amount),
            Action::Withdraw { sub, amount } => self.withdraw(tx.sender, *sub, *amount),
            Action::Transfer { sub, to, to_sub, amount } => {
                self.transfer(tx.sender, *sub, *to, *to_sub, *amount)
            }
            Action::Place(req) => self.place(index, tx.sender, req),
            Action::Cancel { sub, market, id } => self.cancel(tx.sender, *sub, *market, *id),
            Action::CancelByClientId { sub, market, client_id } => {
                self.cancel_by_client_id(tx.sender, *sub, *market, *client_id)
            }
            Action::CancelAll { sub, market, side } => {
                self.cancel_all_action(tx.sender, *sub, *market, *side)
            }
            Action::Modify { sub, market, id, price, qty } => {
                self.modify(tx.sender, *sub, *market, *id, *price, *qty)
            }
            Action::SetMarginMode { sub, market, isolated } => {
                self.set_margin_mode(tx.sender, *sub, *market, *isolated)
            }
            Action::AdjustIsolatedMargin { sub, market, amount } => {
                self.adjust_isolated(tx.sender, *sub, *market, *amount)
            }
            Action::BidLiquidation { sub, auction, price_limit } => {
                self.bid_liquidation(tx.sender, *sub, *auction, *price_limit)
            }
        }
    }

    /// Re-watches the buckets the last action touched and drops their empty legs.
    pub(crate) fn after_action(&mut self) {
        self.tidy_legs();
        let mut touched = core::mem::take(&mut self.touched);
        touched.sort_unstable();
        touched.dedup();
        for &(account, bucket) in &touched {
            if let Some(b) = self.bucket_mut(account, bucket) {
                b.legs.retain(|l| !l.is_empty());
            }
            self.rewatch(account, bucket);
        }
        touched.clear();
        self.touched = touched;
    }

    /// Drops the legs that became empty (no position, no orders) in buckets whose resting lots
    /// changed.
    pub(crate) fn tidy_legs(&mut self) {
        let mut tidy = core::mem::take(&mut self.tidy);
        for &(account, bucket) in &tidy {
            if let Some(b) = self.bucket_mut(account, bucket) {
                b.legs.retain(|l| !l.is_empty());
            }
        }
        tidy.clear();
        self.tidy = tidy;
    }

    /// Halts a market whose internal processing failed: the market stops, the engine goes on.
    pub(crate) fn fault(&mut self, market: MarketId) {
        if let Some(m) = self.markets.get_mut(usize::from(market.0)) {
            m.base_status = MarketStatus::Halted;
            let mut events = Vec::new();
            m.set_status(MarketStatus::Halted, StatusCause::Fault, &mut events);
            self.events.extend(events);
        }
    }

    /// Cheap per-market checks run after every block in every build: open interest balanced
    /// and the book uncrossed. A market failing one is halted (the engine goes on).
    fn market_sanity(&mut self) {
        let broken: Vec<MarketId> = self
            .markets
            .iter()
            .filter(|m| m.status != MarketStatus::Halted)
            .filter(|m| {
                let crossed = match (m.book.best_bid(), m.book.best_ask()) {
                    (Some(b), Some(a)) => b.price >= a.price,
                    _ => false,
                };
                crossed || m.long_lots != m.short_lots
            })
            .map(|m| m.id)
            .collect();
        for id in broken {
            self.fault(id);
        }
    }

    fn expire_orders(&mut self) {
        let limit = self.params.expirations_per_market_per_block_max;
        for i in 0..self.markets.len() {
            if self.markets[i].status == MarketStatus::Halted {
                continue;
            }
            let now = self.now;
            let mut out = core::mem::take(&mut self.book_events);
            out.clear();
            self.markets[i].book.expire(now, limit, &mut out);
            self.book_events = out;
            self.absorb(MarketId(i as u16), None, None);
            self.after_action();
        }
    }

    // ------------------------------------------------------------------------------------
    // Accounts and collateral

    pub(crate) fn lookup(&self, owner: Address, sub: SubaccountId) -> Result<AccountId, Rejection> {
        self.directory.get(&directory_key(owner, sub)).copied().ok_or(Rejection::UnknownAccount)
    }

    fn account_or_create(
        &mut self,
        owner: Address,
        sub: SubaccountId,
    ) -> Result<AccountId, Rejection> {
        if let Some(id) = self.directory.get(&directory_key(owner, sub)) {
            return Ok(*id);
        }
        if self.accounts.len() >= self.params.accounts_max as usize {
            return Err(Rejection::AccountLimit);
        }
        let id = AccountId(self.accounts.len() as u32);
        self.accounts.push(Account::new(owner, sub));
        self.directory.insert(directory_key(owner, sub), id);
        self.dirty.created(id);
        Ok(id)
    }

    pub(crate) fn bucket_mut(
        &mut self,
        account: AccountId,
        bucket: BucketId,
    ) -> Option<&mut Bucket> {
        self.dirty.mark(account);
        self.accounts.get_mut(account.0 as usize)?.bucket_mut(bucket)
    }

    pub(crate) fn bucket_ref(&self, account: AccountId, bucket: BucketId) -> Option<&Bucket> {
        self.accounts.get(account.0 as usize)?.bucket(bucket)
    }

    fn credit(&mut self, account: AccountId, amount: Quote) -> Result<(), Rejection> {
        let deposits = self.deposits.0.try_add(amount.0)?;
        let cash = self.accounts[account.0 as usize].cross.cash.0.try_add(amount.0)?;
        self.deposits = Quote(deposits);
        self.accounts[account.0 as usize].cross.cash = Quote(cash);
        self.dirty.mark(account);
        self.touched.push((account, BucketId::Cross));
        Ok(())
    }

    fn deposit(
        &mut self,
        owner: Address,
        sub: SubaccountId,
        amount: Quote,
    ) -> Result<(), Rejection> {
        if amount.0 <= 0 {
            return Err(Rejection::InvalidAmount);
        }
        if amount > self.params.deposit_max {
            return Err(Rejection::DepositTooLarge);
        }
        let exists = self.directory.contains_key(&directory_key(owner, sub));
        if !exists && self.accounts.len() >= self.params.accounts_max as usize {
            return Err(Rejection::AccountLimit);
        }
        // Overflow is impossible for a new account; check before creating it anyway.
        self.deposits.0.try_add(amount.0)?;
        let account = self.account_or_create(owner, sub)?;
        self.credit(account, amount)?;
        self.events.push(Event::Deposited { account, amount });
        Ok(())
    }

    /// The most the cross bucket of `account` may withdraw or transfer now (see
    /// `valuation.rs`).
    pub fn withdrawable(&self, account: AccountId) -> Result<Quote, Rejection> {
        let acc = self.accounts.get(account.0 as usize).ok_or(Rejection::UnknownAccount)?;
        if self.liquidations.contains_key(&(account, BucketId::Cross)) {
            return Ok(Quote::ZERO);
        }
        let v = bucket_value(&self.markets, &acc.cross, None, 0)?;
        Ok(Quote(self.free_after_haircut(&v)?.max(0)))
    }

    fn free_after_haircut(&self, v: &Valuation) -> Result<i128, MathError> {
        let haircut = self.params.upnl_withdraw_haircut.of_quote_ceil(v.upnl_positive)?;
        let floor =
            withdrawal_requirement(v.initial, v.notional, self.params.withdraw_notional_fraction)?;
        v.equity.0.try_sub(haircut.0)?.try_sub(floor.0)
    }

    fn debit_withdrawable(&mut self, account: AccountId, amount: Quote) -> Result<(), Rejection> {
        if amount.0 <= 0 {
            return Err(Rejection::InvalidAmount);
        }
        if self.withdrawable(account)? < amount {
            return Err(Rejection::InsufficientCollateral);
        }
        // Collateral leaves only on fresh prices (validity per action).
        let acc = &self.accounts[account.0 as usize];
        let height = self.now.height;
        if acc.cross.legs.iter().any(|l| {
            self.markets
                .get(usize::from(l.market.0))
                .is_some_and(|m| !m.index_fresh_for_opening(height))
        }) {
            return Err(Rejection::IndexTooOld);
        }
        let acc = &mut self.accounts[account.0 as usize];
        acc.cross.cash = Quote(acc.cross.cash.0.try_sub(amount.0)?);
        self.dirty.mark(account);
        self.touched.push((account, BucketId::Cross));
        Ok(())
    }

    fn withdraw(
        &mut self,
        owner: Address,
        sub: SubaccountId,
        amount: Quote,
    ) -> Result<(), Rejection> {
        let account = self.lookup(owner, sub)?;
        let total = self.withdrawals.0.try_add(amount.0)?;
        self.debit_withdrawable(account, amount)?;
        self.withdrawals = Quote(total);
        self.events.push(Event::Withdrawn { account, amount });
        Ok(())
    }

    fn transfer(
        &mut self,
        owner: Address,
        sub: SubaccountId,
        to: Address,
        to_sub: SubaccountId,
        amount: Quote,
    ) -> Result<(), Rejection> {
        let from = self.lookup(owner, sub)?;
        if (owner, sub) == (to, to_sub) {
            return Err(Rejection::SameAccount);
        }
        if to == INSURANCE_ADDRESS {
            return Err(Rejection::UnknownAccount);
        }
        let exists = self.directory.contains_key(&directory_key(to, to_sub));
        if !exists && self.accounts.len() >= self.params.accounts_max as usize {
            return Err(Rejection::AccountLimit);
        }
        self.debit_withdrawable(from, amount)?;
        let dest = self.account_or_create(to, to_sub)?;
        let acc = &mut self.accounts[dest.0 as usize];
        acc.cross.cash = Quote(acc.cross.cash.0.try_add(amount.0)?);
        self.dirty.mark(dest);
        self.touched.push((dest, BucketId::Cross));
        self.events.push(Event::Transferred { from, to: dest, amount });
        Ok(())
    }

    fn set_margin_mode(
        &mut self,
        owner: Address,
        sub: SubaccountId,
        market: MarketId,
        isolated: bool,
    ) -> Result<(), Rejection> {
        self.market(market).ok_or(Rejection::UnknownMarket)?;
        let account = self.lookup(owner, sub)?;
        let acc = &mut self.accounts[account.0 as usize];
        let current = acc.bucket_of(market);
        let has_exposure = acc.bucket(current).and_then(|b| b.leg(market)).is_some();
        if has_exposure {
            return Err(Rejection::MarginModeLocked);
        }
        match (current, isolated) {
            (BucketId::Cross, true) => {
                let pos = acc.isolated.binary_search_by_key(&market, |(m, _)| *m).unwrap_err();
                acc.isolated.insert(pos, (market, Bucket::default()));
                self.dirty.mark(account);
            }
            (BucketId::Isolated(_), false) => {
                let pos = acc
                    .isolated
                    .binary_search_by_key(&market, |(m, _)| *m)
                    .map_err(|_| Rejection::NotIsolated)?;
                let (_, bucket) = acc.isolated.remove(pos);
                acc.cross.cash = Quote(acc.cross.cash.0.try_add(bucket.cash.0)?);
                self.dirty.mark(account);
                self.touched.push((account, BucketId::Cross));
            }
            _ => {}
        }
        Ok(())
    }

    fn adjust_isolated(
        &mut self,
        owner: Address,
        sub: SubaccountId,
        market: MarketId,
        amount: Quote,
    ) -> Result<(), Rejection> {
        self.market(market).ok_or(Rejection::UnknownMarket)?;
        let account = self.lookup(owner, sub)?;
        let iso = BucketId::Isolated(market);
        if self.bucket_ref(account, iso).is_none() {
            return Err(Rejection::NotIsolated);
        }
        if amount.0 == 0 {
            return Err(Rejection::InvalidAmount);
        }
        let (from, to) = if amount.0 > 0 { (BucketId::Cross, iso) } else { (iso, BucketId::Cross) };
        let magnitude = Quote(amount.0.checked_abs().ok_or(Rejection::InvalidAmount)?);
        if self.liquidations.contains_key(&(account, from)) {
            return Err(Rejection::AccountInLiquidation);
        }
        let source = self.bucket_ref(account, from).ok_or(Rejection::NotIsolated)?;
        let v = bucket_value(&self.markets, source, None, 0)?;
        if self.free_after_haircut(&v)? < magnitude.0 {
            return Err(Rejection::InsufficientCollateral);
        }
        let src = self.bucket_mut(account, from).ok_or(Rejection::NotIsolated)?;
        src.cash = Quote(src.cash.0.try_sub(magnitude.0)?);
        let dst = self.bucket_mut(account, to).ok_or(Rejection::NotIsolated)?;
        dst.cash = Quote(dst.cash.0.try_add(magnitude.0)?);
        self.touched.push((account, from));
        self.touched.push((account, to));
        self.events.push(Event::IsolatedMarginAdjusted { account, market, amount });
        Ok(())
    }

    // ------------------------------------------------------------------------------------
    // Queries

    /// The accounts whose committed state may have changed since the previous call (or since
    /// the engine was built), ascending and without duplicates: see the module doc and
    /// `dirty.rs` for the contract. Empties the set.
    pub fn take_dirty_accounts(&mut self) -> Vec<AccountId> {
        self.dirty.take()
    }

    /// Engine parameters.
    pub fn params(&self) -> &EngineParams {
        &self.params
    }

    /// Height and time of the last executed block.
    pub fn now(&self) -> Now {
        self.now
    }

    /// A market.
    pub fn market(&self, id: MarketId) -> Option<&Market> {
        self.markets.get(usize::from(id.0))
    }

    /// All markets, by id.
    pub fn markets(&self) -> &[Market] {
        &self.markets
    }

    /// The account id of (address, subaccount), if it exists.
    pub fn account_id(&self, owner: Address, sub: SubaccountId) -> Option<AccountId> {
        self.directory.get(&directory_key(owner, sub)).copied()
    }

    /// An account.
    pub fn account(&self, id: AccountId) -> Option<&Account> {
        self.accounts.get(id.0 as usize)
    }

    /// Number of accounts (insurance funds included).
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// Value and requirements of a bucket at the current marks.
    pub fn valuation(&self, account: AccountId, bucket: BucketId) -> Result<Valuation, Rejection> {
        let b = self.bucket_ref(account, bucket).ok_or(Rejection::UnknownAccount)?;
        Ok(bucket_value(&self.markets, b, None, 0)?)
    }

    /// The fee pool (fees minus rebates).
    pub fn fee_pool(&self) -> Quote {
        self.fee_pool
    }

    /// Total deposits and withdrawals so far.
    pub fn flows(&self) -> (Quote, Quote) {
        (self.deposits, self.withdrawals)
    }

    /// The insurance fund of a market: its account's equity at mark.
    pub fn insurance_fund(&self, market: MarketId) -> Result<Quote, Rejection> {
        let m = self.market(market).ok_or(Rejection::UnknownMarket)?;
        Ok(self.valuation(m.insurance, BucketId::Cross)?.equity)
    }

    /// Whether a bucket is in the liquidation waterfall.
    pub fn in_liquidation(&self, account: AccountId, bucket: BucketId) -> bool {
        self.liquidations.contains_key(&(account, bucket))
    }

    /// Open takeover auctions.
    pub fn auctions(&self) -> impl Iterator<Item = (&AuctionId, &Auction)> {
        self.auctions.iter()
    }

    /// The current price of an open auction.
    pub fn auction_price(&self, id: AuctionId) -> Option<PriceTicks> {
        self.auctions.get(&id).map(|a| a.price_at(self.now.height))
    }
}
