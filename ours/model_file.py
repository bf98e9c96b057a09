"""Model files (the article's torch.save): loaded if they hold DQN weights, saved atomically."""

import os
import pickletools
import re
import tempfile
import warnings
import zipfile
from pathlib import Path

import torch

from nn_model import DQN
from ours.environment import cliff_walking_id

MODEL_FILE = "cliff_walking_dql.pt"
SHIPPED_MODEL = Path(__file__).resolve().parent.parent / MODEL_FILE  # beside cliff_walking_dqn.py


class ModelFileError(ValueError):
    """A model file that cannot be used, with what to do about it, in one line: a bad value of
    ``model_file`` (``--model``)."""


def load_model(path, num_states: int, num_actions: int, environment=None) -> DQN:
    """Load a DQN state_dict saved by ``save_model`` (or the article's code), checking everything;
    an error says how to train one for ``environment`` (None: the cliff).

    ``weights_only=True``: a .pt file is a pickle, and a pickle may run code when loaded.
    """
    path = Path(path)
    retrain = f"train a new one with '{_train_command(path, environment)}'"
    if path.is_dir():
        raise ModelFileError(f"model file '{path}' is a folder: point --model at a .pt file")
    if not path.is_file():
        a_cliff = environment is None or environment.env_id.startswith("CliffWalking")
        ways_out = (
            f"test the shipped model with --model {SHIPPED_MODEL}, or {retrain}"
            if SHIPPED_MODEL.is_file() and a_cliff
            else f"{retrain}, or point --model at an existing file"
        )
        raise ModelFileError(f"model file '{path}' does not exist: {ways_out}")
    if path.stat().st_size == 0:
        raise ModelFileError(f"model file '{path}' is empty: {retrain}")
    try:
        with warnings.catch_warnings():
            # torch warns about pickle protocols before refusing them
            warnings.simplefilter("ignore")
            state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises RuntimeError, EOFError, KeyError, UnpicklingError ...
        # what torch refused: "Unsupported global" (torch 2.4 on), "unsupported GLOBAL posix.system
        # whose module posix is blocked" (a blocked module), "Unsupported class" (before 2.4)
        if _pickled_network(path):
            raise ModelFileError(
                f"model file '{path}' holds a whole pickled network (torch.save(model, ...)),"
                " which would run code when loaded: save just its weights, as the article does,"
                f" with torch.save(model.state_dict(), '{path}'), or {retrain}"
            ) from None
        refused = re.search("unsupported (global|class)", str(error), re.IGNORECASE)
        if refused or _pickle_calls_code(path):
            raise ModelFileError(
                f"model file '{path}' was refused:"
                " it holds Python objects that would run code when loaded,"
                f" not just weights; load only files you trust, or {retrain}"
            ) from None
        raise ModelFileError(
            f"model file '{path}' is not a readable PyTorch weights file"
            f" (corrupt or truncated): {retrain}"
        ) from None

    expected = {
        name: tuple(tensor.shape)
        for name, tensor in DQN(in_states=num_states, out_actions=num_actions).state_dict().items()
    }
    found = (
        {name: tuple(getattr(value, "shape", ())) for name, value in state_dict.items()}
        if isinstance(state_dict, dict)
        else None
    )
    if found != expected:
        raise ModelFileError(
            f"model file '{path}' holds a different network ({_describe(found)}),"
            f" not the DQN this code builds ({_describe(expected)}): {retrain}"
        )
    return _network(state_dict, num_states, num_actions)


def _network(state_dict: dict, num_states: int, num_actions: int) -> DQN:
    """The article's ``DQN(...)`` and ``load_state_dict``: the one place a network is rebuilt."""
    policy_dqn = DQN(in_states=num_states, out_actions=num_actions)
    policy_dqn.load_state_dict(state_dict)
    return policy_dqn


def network_from(state_dict: dict, environment) -> DQN:
    """A network with the weights of ``state_dict``, for ``environment``'s states and actions."""
    outcomes = environment.outcomes
    return _network(state_dict, *outcomes.next_states.shape[:2])


def _train_command(path: Path, environment) -> str:
    """The command that trains a network for ``environment`` (None: the cliff) into ``path``."""
    if environment is None or environment.env_id.startswith("CliffWalking"):
        plain = environment is None or environment.env_id == cliff_walking_id()
        slippery = "" if plain else " --slippery"
        return f"python {_script('cliff_walking_dqn.py')}{slippery} --model {path}"
    not_slippery = " --not-slippery" if environment.kwargs.get("is_slippery") is False else ""
    script = _script("other_environments.py")
    return f"python {script} {environment.env_id}{not_slippery} --model {path}"


def _script(name: str) -> str:
    """The script ``name``, beside cliff_walking_dqn.py, as the user can run it from here."""
    script = SHIPPED_MODEL.parent / name
    return script.name if Path.cwd() == script.parent else str(script)


def _pickle_calls_code(path: Path) -> bool:
    """Whether the file is a plain pickle that imports or calls something; read, never run.

    Only a whole pickle counts, read to its STOP at the end of the file: random bytes often start
    like one (1 file of 80 in 4096 random bytes), and are corrupt, not code.
    """
    try:
        with open(path, "rb") as file:
            names = {op.name for op, _, _ in pickletools.genops(file)}
            whole = file.read(1) == b""
    except Exception:  # not a pickle at all
        return False
    return whole and bool(names & {"GLOBAL", "STACK_GLOBAL", "REDUCE", "INST", "OBJ"})


def _pickled_network(path: Path) -> bool:
    """Whether a torch.save file holds a whole network, as ``torch.save(model, path)`` writes it:
    its pickle names torch's layer classes. Read, never run."""
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [name for name in archive.namelist() if name.endswith("data.pkl")]
            return any(b"torch.nn.modules." in archive.read(name) for name in pickles)
    except (OSError, zipfile.BadZipFile):
        return False


def _describe(shapes: dict | None) -> str:
    if shapes is None:
        return "not a state_dict"
    return ", ".join(
        f"{name} {'x'.join(map(str, shape))}" for name, shape in sorted(shapes.items())
    )


def load_policy(agent, num_states: int, num_actions: int) -> DQN:
    """The network ``agent.test`` plays: the one in ``agent.model_file``, or with None, the one
    ``agent.train`` made; before any training that is a ValueError."""
    if agent.model_file is not None:
        return load_model(agent.model_file, num_states, num_actions, agent.environment)
    if getattr(agent, "trained_weights", None) is None:  # set by train
        raise ValueError(
            "model_file is None and train has kept no network yet: call train() first,"
            " or set model_file to a saved model's path"
        )
    return _network(agent.trained_weights, num_states, num_actions)


def tested_network(agent) -> str:
    """Which network ``agent.test`` plays, in words."""
    if agent.model_file is None:
        return "(the network train just made, not saved: model_file is None)"
    return f"(the network in {agent.model_file})"


def save_model(state_dict: dict, path) -> dict:
    """Write to a temporary file beside ``path`` and rename it over ``path``; None: write nothing.
    Returns ``state_dict``: the weights the agent keeps (``trained_weights``), written or not.

    The rename is atomic, so an interrupt or a full disk leaves the previous model file whole.
    """
    if path is None:
        return state_dict
    path = Path(path)
    handle, temporary = tempfile.mkstemp(
        dir=path.resolve().parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(state_dict, file)
        umask = os.umask(0)
        os.umask(umask)
        # mkstemp makes the file private; a model file needn't be
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return state_dict
