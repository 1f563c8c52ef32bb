"""The chaos run (`make chaos`): a both-ways workload under injected faults, judged by an independent checker."""
