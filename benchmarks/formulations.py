"""How long the article's formulation and ours play the same episodes, with one seed.

    python benchmarks/formulations.py              # seed 0, 3000 learning episodes
    python benchmarks/formulations.py --seed 5 --episodes 300

Both train in the same episode loop with the same random draws (``article_baseline.py``); they
differ only in how the arithmetic is organised: the article's per-sample loop against our batch.
The script prints the first episode whose length differs, the environment steps each played, and
the largest difference between the weights of the networks each kept. docs/speed.md quotes it.
"""

import contextlib
import io
import os
import sys

os.environ.setdefault("TQDM_DISABLE", "1")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..")]

import torch  # noqa: E402

from article_baseline import train_article_formulation  # noqa: E402
from cliff_walking_dqn import CliffWalkingDQN  # noqa: E402
from ours.command_line import MAX_SEED, OneLineArgumentParser, whole_number  # noqa: E402


def main() -> int:
    parser = OneLineArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=whole_number(0, MAX_SEED), default=0)
    parser.add_argument("--episodes", type=whole_number(1), default=3000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with contextlib.redirect_stdout(io.StringIO()):
        ours = CliffWalkingDQN(seed=args.seed, model_file=None).train(args.episodes)
        article_state, article_steps = train_article_formulation(
            CliffWalkingDQN(seed=args.seed), args.episodes
        )
    our_steps = ours.steps_per_episode.tolist()
    differing = [i for i, (a, b) in enumerate(zip(our_steps, article_steps), 1) if a != b]
    first = differing[0] if differing else None
    difference = max(
        (ours.best_state[name] - article_state[name]).abs().max().item() for name in article_state
    )
    same = "the same episodes throughout" if first is None else f"the same {first - 1} episodes"
    print(
        f"seed {args.seed}, {args.episodes} learning episodes: {same};"
        f" ours played {len(our_steps)} episodes, {sum(our_steps)} environment steps,"
        f" the article's {len(article_steps)}, {sum(article_steps)};"
        f" largest weight difference of the networks kept: {difference:.2g}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
