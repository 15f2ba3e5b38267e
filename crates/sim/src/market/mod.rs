//! The devnet market: a seeded crowd of bots that keeps a market alive, and pushes it through
//! its liquidation waterfall when prices crash.
//!
//! # The loop
//! After every (finalized) block the caller captures a [`Snapshot`] (markets with their top
//! levels, each bot's own account, the open takeover auctions: a pure function of the engine's
//! state, [`Snapshot::capture`]) and calls [`MarketSim::step`], which returns [`Batch`]es of
//! chain actions ([`TxAction`]), each to be signed by one bot's key or by the faucet's. When a
//! bot's batch reaches a block, the caller says so with [`MarketSim::confirm`] (or when the
//! submission failed): a bot with a batch in flight is not asked again, so it never acts twice on
//! the same stale view. A batch never confirmed frees its bot after [`INFLIGHT_TIMEOUT_BLOCKS`].
//! Nothing here signs, sends, reads a clock or draws randomness from anywhere but the seed:
//! the same seed and the same engine give the same batches ([`run`] drives a bare engine this
//! way; the `novation devnet` driver drives a chain).
//!
//! # The crowd ([`Population`])
//!
//! | kind | count (devnet) | strategy |
//! |---|---|---|
//! | [`Maker`] | 2 per market | `levels` post-only quotes per side around the index, inventory skew, requote on a move, a fill or a refresh |
//! | [`Taker`] | 6 | random IOC orders with a slippage bound a few % from the index |
//! | [`Leveraged`] | 8 + 4 | one position at 10–20× its collateral, 80 % long (8 of them), or at 3–4×, always long (4); held, closed, reopened; liquidated in a crash, refunded after a cooldown |
//! | [`Keeper`] | 1 | bids in takeover auctions at a discount to the index, unwinds what it won |
//!
//! The two leveraged cohorts split a crash: the 10–20× traders are liquidated within its first
//! 10 %, while the makers' bids still absorb them (waterfall step 2); the 3–4× longs around
//! −25 % to −33 %, about when the circuit breaker (a 30 % move within its window) puts the
//! market in reduce-only and the makers pull their quotes, so their positions go on to the
//! takeover auctions and the insurance fund (steps 3 and 4).
//!
//! Bots are numbered makers first (market by market), then takers, leveraged traders (cohort by
//! cohort) and keepers; the number is the bot's key index. Each bot draws from its own [`SplitMix64`]
//! stream forked from the population seed in that order.
//!
//! # Funding
//! A bot whose account does not exist, or (makers, takers, keepers) whose equity fell below
//! half its collateral and that is not being liquidated, asks the faucet to top it back up to
//! its collateral; a leveraged trader asks when flat below 90 % of it, after its cooldown. The
//! requests of a step go out as faucet batches (at most [`MAX_ACTIONS_PER_TX`] credits each); a
//! bot asks again at most every [`REFUND_RETRY_BLOCKS`] blocks.
//!
//! # Bounds
//! [`BOTS_MAX`] bots; a batch holds at most [`ACTIONS_PER_BOT_MAX`] actions (a maker's
//! cancel-all and `2 × LEVELS_MAX` quotes), so it always fits in one transaction; a maker holds
//! at most `2 × LEVELS_MAX` resting orders, the others none (their orders are IOC); a keeper bids
//! at most [`keeper::BIDS_PER_BLOCK_MAX`] times a block.

pub mod keeper;
pub mod leveraged;
pub mod maker;
pub mod run;
pub mod taker;
pub mod view;

use core::fmt;

use novation_chain::tx::{TxAction, MAX_ACTIONS_PER_TX};
use novation_engine::MarketId;
use novation_types::{Address, Quote};

pub use keeper::{Keeper, KeeperParams};
pub use leveraged::{Leveraged, LeveragedParams};
pub use maker::{Maker, MakerParams};
pub use taker::{Taker, TakerParams};
pub use view::{AccountView, AuctionView, MarketView, Snapshot};

use crate::rng::SplitMix64;

/// Most bots in a population.
pub const BOTS_MAX: usize = 256;

/// Most cohorts of leveraged traders.
pub const COHORTS_MAX: usize = 8;

/// Most quote levels per side of a maker.
pub const LEVELS_MAX: u32 = 8;

/// Most actions in one bot's batch.
pub const ACTIONS_PER_BOT_MAX: usize = 1 + 2 * LEVELS_MAX as usize;
const _: () = assert!(ACTIONS_PER_BOT_MAX <= MAX_ACTIONS_PER_TX);
const _: () = assert!(keeper::BIDS_PER_BLOCK_MAX <= ACTIONS_PER_BOT_MAX);

/// Blocks after which a batch never confirmed stops holding its bot back.
pub const INFLIGHT_TIMEOUT_BLOCKS: u64 = 20;

/// Blocks between two faucet requests of one bot.
pub const REFUND_RETRY_BLOCKS: u64 = 30;

/// What a bot is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BotKind {
    /// A market maker.
    Maker,
    /// A random taker.
    Taker,
    /// A leveraged trader.
    Leveraged,
    /// A liquidation keeper.
    Keeper,
}

impl BotKind {
    /// Every kind, in bot order.
    pub const ALL: [BotKind; 4] =
        [BotKind::Maker, BotKind::Taker, BotKind::Leveraged, BotKind::Keeper];

    /// Short name.
    pub fn name(self) -> &'static str {
        match self {
            BotKind::Maker => "maker",
            BotKind::Taker => "taker",
            BotKind::Leveraged => "leveraged",
            BotKind::Keeper => "keeper",
        }
    }
}

/// The crowd: how many bots of each kind, their parameters and the seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Population {
    /// Seed of every bot's stream.
    pub seed: u64,
    /// Markets the makers quote (ids `0..markets`; the others trade every market that can open).
    pub markets: u16,
    /// Makers per market.
    pub makers_per_market: u32,
    /// Takers.
    pub takers: u32,
    /// Leveraged traders: cohorts of (count, parameters).
    pub leveraged: Vec<(u32, LeveragedParams)>,
    /// Keepers.
    pub keepers: u32,
    /// Makers' parameters.
    pub maker: MakerParams,
    /// Takers' parameters.
    pub taker: TakerParams,
    /// Keepers' parameters.
    pub keeper: KeeperParams,
}

/// What one bot is, with its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Spec {
    Maker(MarketId),
    Taker,
    Leveraged(LeveragedParams),
    Keeper,
}

/// Why a population is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PopulationError(pub &'static str);

impl fmt::Display for PopulationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad population: {}", self.0)
    }
}

impl std::error::Error for PopulationError {}

impl Population {
    /// The devnet crowd on `markets` markets (see the module doc's table).
    pub fn devnet(seed: u64, markets: u16) -> Population {
        Population {
            seed,
            markets,
            makers_per_market: 2,
            takers: 6,
            leveraged: vec![(8, LeveragedParams::DEVNET), (4, LeveragedParams::DEVNET_LOW)],
            keepers: 1,
            maker: MakerParams::DEVNET,
            taker: TakerParams::DEVNET,
            keeper: KeeperParams::DEVNET,
        }
    }

    /// Number of bots.
    pub fn len(&self) -> usize {
        self.kinds().len()
    }

    /// Whether there are no bots.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each bot's kind (and the market of a maker), in bot order.
    pub fn kinds(&self) -> Vec<(BotKind, Option<MarketId>)> {
        self.specs()
            .into_iter()
            .map(|spec| match spec {
                Spec::Maker(m) => (BotKind::Maker, Some(m)),
                Spec::Taker => (BotKind::Taker, None),
                Spec::Leveraged(_) => (BotKind::Leveraged, None),
                Spec::Keeper => (BotKind::Keeper, None),
            })
            .collect()
    }

    /// Leveraged traders in all cohorts.
    pub fn leveraged_count(&self) -> u32 {
        self.leveraged.iter().map(|(n, _)| n).sum()
    }

    fn specs(&self) -> Vec<Spec> {
        let mut out = Vec::new();
        for m in 0..self.markets {
            out.extend((0..self.makers_per_market).map(|_| Spec::Maker(MarketId(m))));
        }
        out.extend((0..self.takers).map(|_| Spec::Taker));
        for (n, params) in &self.leveraged {
            out.extend((0..*n).map(|_| Spec::Leveraged(*params)));
        }
        out.extend((0..self.keepers).map(|_| Spec::Keeper));
        out
    }

    /// Checks counts and parameters.
    pub fn validate(&self) -> Result<(), PopulationError> {
        let total = u64::from(self.markets) * u64::from(self.makers_per_market)
            + u64::from(self.takers)
            + self.leveraged.iter().map(|(n, _)| u64::from(*n)).sum::<u64>()
            + u64::from(self.keepers);
        if total > BOTS_MAX as u64 {
            return Err(PopulationError("more than BOTS_MAX bots"));
        }
        if !self.maker.is_valid() {
            return Err(PopulationError("maker parameters"));
        }
        if !self.taker.is_valid() {
            return Err(PopulationError("taker parameters"));
        }
        if self.leveraged.len() > COHORTS_MAX || self.leveraged.iter().any(|(_, p)| !p.is_valid()) {
            return Err(PopulationError("leveraged trader parameters"));
        }
        if !self.keeper.is_valid() {
            return Err(PopulationError("keeper parameters"));
        }
        Ok(())
    }
}

/// What a strategy wants this block: actions signed by the bot, and a faucet credit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// Actions for the bot's own transaction.
    pub actions: Vec<TxAction>,
    /// Quote atoms to ask the faucet for.
    pub refund: Option<Quote>,
}

impl Decision {
    /// At most one action, no refund.
    pub fn act(action: Option<TxAction>) -> Decision {
        Decision { actions: action.into_iter().collect(), refund: None }
    }

    /// Only a refund request.
    pub fn refund(amount: Quote) -> Decision {
        Decision { actions: Vec::new(), refund: (amount.0 > 0).then_some(amount) }
    }
}

/// The top-up a maker, taker or keeper asks for: back to `collateral` when its account does not
/// exist or its equity fell below half of it (never while being liquidated).
fn top_up(me: &AccountView, collateral: Quote) -> Option<Quote> {
    let low = !me.exists() || me.equity.0 * 2 < collateral.0;
    (low && !me.in_liquidation).then(|| Quote(collateral.0 - me.equity.0.max(0)))
}

/// Who signs a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Signer {
    /// Bot number `n` (its key index).
    Bot(u32),
    /// The faucet.
    Faucet,
}

/// Actions for one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// Who signs it.
    pub signer: Signer,
    /// Its actions (1 to [`MAX_ACTIONS_PER_TX`]).
    pub actions: Vec<TxAction>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Strategy {
    Maker(Maker),
    Taker(Taker),
    Leveraged(Leveraged),
    Keeper(Keeper),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Bot {
    kind: BotKind,
    address: Address,
    rng: SplitMix64,
    /// Height of the step that sent its batch still in flight.
    inflight_since: Option<u64>,
    /// Height of its last faucet request.
    refund_at: Option<u64>,
    strategy: Strategy,
}

/// Every bot of a population. See the module doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarketSim {
    bots: Vec<Bot>,
}

impl MarketSim {
    /// The bots of `population`; bot `i` trades as `addresses[i]` (subaccount 0).
    pub fn new(
        population: &Population,
        addresses: &[Address],
    ) -> Result<MarketSim, PopulationError> {
        population.validate()?;
        let specs = population.specs();
        if addresses.len() != specs.len() {
            return Err(PopulationError("one address per bot"));
        }
        let mut seed = SplitMix64::new(population.seed);
        let bots = specs
            .into_iter()
            .zip(addresses)
            .map(|(spec, &address)| {
                let (kind, strategy) = match spec {
                    Spec::Maker(m) => {
                        (BotKind::Maker, Strategy::Maker(Maker::new(population.maker, m)))
                    }
                    Spec::Taker => (BotKind::Taker, Strategy::Taker(Taker::new(population.taker))),
                    Spec::Leveraged(p) => {
                        (BotKind::Leveraged, Strategy::Leveraged(Leveraged::new(p)))
                    }
                    Spec::Keeper => {
                        (BotKind::Keeper, Strategy::Keeper(Keeper::new(population.keeper)))
                    }
                };
                Bot {
                    kind,
                    address,
                    rng: seed.fork(),
                    inflight_since: None,
                    refund_at: None,
                    strategy,
                }
            })
            .collect();
        Ok(MarketSim { bots })
    }

    /// Number of bots.
    pub fn len(&self) -> usize {
        self.bots.len()
    }

    /// Whether there are no bots.
    pub fn is_empty(&self) -> bool {
        self.bots.is_empty()
    }

    /// Bot `i`'s kind.
    pub fn kind(&self, i: u32) -> Option<BotKind> {
        self.bots.get(i as usize).map(|b| b.kind)
    }

    /// Bot `i`'s address.
    pub fn address(&self, i: u32) -> Option<Address> {
        self.bots.get(i as usize).map(|b| b.address)
    }

    /// Liquidations the leveraged traders went through, as they saw them.
    pub fn trader_liquidations(&self) -> u64 {
        self.bots
            .iter()
            .map(|b| match &b.strategy {
                Strategy::Leveraged(l) => l.liquidations(),
                _ => 0,
            })
            .sum()
    }

    /// Bot `i`'s last batch reached a block, or failed to be sent: it may act again.
    pub fn confirm(&mut self, i: u32) {
        if let Some(b) = self.bots.get_mut(i as usize) {
            b.inflight_since = None;
        }
    }

    /// The batches of one block, for the state in `snap`: bot batches in bot order, then the
    /// faucet's.
    pub fn step(&mut self, snap: &Snapshot) -> Vec<Batch> {
        let height = snap.height;
        let none = AccountView::default();
        let mut out = Vec::new();
        let mut credits = Vec::new();
        for (i, bot) in self.bots.iter_mut().enumerate() {
            if let Some(t) = bot.inflight_since {
                if height < t.saturating_add(INFLIGHT_TIMEOUT_BLOCKS) {
                    continue;
                }
                bot.inflight_since = None;
            }
            let me = snap.accounts.get(i).unwrap_or(&none);
            let mut d = bot.decide(snap, me);
            if let Some(amount) = d.refund.take() {
                if bot.refund_at.is_none_or(|t| height >= t.saturating_add(REFUND_RETRY_BLOCKS)) {
                    bot.refund_at = Some(height);
                    credits.push(TxAction::Faucet { to: bot.address, sub: 0, amount });
                }
            }
            d.actions.truncate(ACTIONS_PER_BOT_MAX);
            if !d.actions.is_empty() {
                bot.inflight_since = Some(height);
                out.push(Batch { signer: Signer::Bot(i as u32), actions: d.actions });
            }
        }
        for chunk in credits.chunks(MAX_ACTIONS_PER_TX) {
            out.push(Batch { signer: Signer::Faucet, actions: chunk.to_vec() });
        }
        out
    }
}

impl Bot {
    fn decide(&mut self, snap: &Snapshot, me: &AccountView) -> Decision {
        let height = snap.height;
        match &mut self.strategy {
            Strategy::Maker(m) => {
                let refund = top_up(me, m.collateral());
                let actions = match snap.market(m.market()) {
                    Some(view) if me.exists() => m.decide(height, view, me),
                    _ => Vec::new(),
                };
                Decision { actions, refund }
            }
            Strategy::Taker(t) => Decision {
                refund: top_up(me, t.collateral()),
                actions: t.decide(snap, me, &mut self.rng),
            },
            Strategy::Leveraged(l) => l.decide(height, snap, me, &mut self.rng),
            Strategy::Keeper(k) => {
                Decision { refund: top_up(me, k.collateral()), actions: k.decide(height, snap, me) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::sim_address;

    fn addresses(n: usize) -> Vec<Address> {
        (0..n as u32).map(sim_address).collect()
    }

    #[test]
    fn the_devnet_population_is_valid_and_ordered() {
        let p = Population::devnet(1, 2);
        assert_eq!(p.validate(), Ok(()));
        assert_eq!(p.len(), 4 + 6 + 12 + 1);
        let kinds = p.kinds();
        assert_eq!(kinds[0], (BotKind::Maker, Some(MarketId(0))));
        assert_eq!(kinds[2], (BotKind::Maker, Some(MarketId(1))));
        assert_eq!(kinds[4].0, BotKind::Taker);
        assert_eq!(kinds[10].0, BotKind::Leveraged);
        assert_eq!(kinds[22].0, BotKind::Keeper);
        assert!(MarketSim::new(&p, &addresses(3)).is_err(), "one address per bot");
        let too_many = Population { takers: 300, ..p.clone() };
        assert!(too_many.validate().is_err());
    }

    #[test]
    fn unfunded_bots_ask_the_faucet_once_per_retry_period() {
        let p = Population::devnet(1, 2);
        let mut sim = MarketSim::new(&p, &addresses(p.len())).expect("valid");
        let snap = Snapshot { height: 1, ..Snapshot::default() };
        let batches = sim.step(&snap);
        assert_eq!(batches.len(), 1, "only credits: {batches:?}");
        assert_eq!(batches[0].signer, Signer::Faucet);
        assert_eq!(batches[0].actions.len(), p.len());
        assert!(sim.step(&Snapshot { height: 2, ..Snapshot::default() }).is_empty());
        let again = sim.step(&Snapshot { height: 1 + REFUND_RETRY_BLOCKS, ..Snapshot::default() });
        assert_eq!(again.len(), 1);
    }
}
