"""The default prompts are the seed's two prompt functions, byte for byte."""

from generation import prompts


# The seed's functions, as the seed gives them.
# fmt: off
def create_topics_prompt(theme: str) -> str:
    """
    Generates a structured prompt for creating story topics based on a given theme.

    Args:
        theme (str): The specific theme for story creation.

    Returns:
        str: A fully formatted prompt for generating multiple story topics.
    """

    prompt = f'''
    [INST]:<<SYS>>You are a chatbot that provides story topics for users.
    
    For example:
    <User>: Please give me a summary of a story.
    
    Response:
    
    1. An ugly dragon seeking the crystal of the forest.
    2. A fairy with a desire to feast on carnivorous plants.
    3. A space mermaid carrying a fan.
    4. A mummy harboring dreams of becoming a Hollywood star.
    5. A samurai who fell in love with a fish.
    
    Now it's your turn. Please respond in English in a creative and innovative manner. The more unique and different, the better.
    Your answer must be in topics like above. Do not give titles for your stories!<<SYS>>
    
    <<User>>: Invent a completely new story summary about "{theme}". Provide 7 possibilities. [/INST]
    '''

    return prompt


def create_story_prompt(topic: str) -> str:
    """
    Constructs a prompt for generating a short story focused on a specific topic, ensuring the story is concise yet complete.

    Args:
        topic (str): The central theme of the story to be created.

    Returns:
        str: A formatted prompt instructing the model to produce a short story with two compact paragraphs, including a resolution and character development.
    """
    # Define the prompt with specific instructions for story creation
    prompt = f'''
    [INST]:<<SYS>>You are a chatbot tasked with creating stories for users.
    
    Your stories must be short, they CANNOT be long, which means your stories must have only TWO paragraphs of small size.
    Ensure each story has a clear conclusion and well-defined characters!<<SYS>>
    
    <<User>>: Invent a completely new story about "{topic}".[/INST]
    '''
    return prompt
# fmt: on


def test_the_raw_prompts_are_the_seeds_text():
    topics = prompts.fill(prompts.TOPICS_RAW, {"theme": "Abuse of power", "n_topics": 7})
    assert topics == create_topics_prompt("Abuse of power")
    story = prompts.fill(prompts.STORY_RAW, {"topic": "A dying empire"})
    assert story == create_story_prompt("A dying empire")


def _seed_parts(raw: str) -> tuple[str, str]:
    """The system and user text of a seed prompt, its indentation taken off."""
    system, _, user = raw.partition("[INST]:<<SYS>>")[2].partition("<<SYS>>")
    system = "\n".join(line.removeprefix("    ") for line in system.split("\n"))
    user = user.partition("<<User>>: ")[2].rpartition("[/INST]")[0].strip()
    return system, user


def test_the_chat_prompts_say_what_the_seed_says():
    for kind, values, seed in (
        ("topics", {"theme": "Exile", "n_topics": 7}, create_topics_prompt("Exile")),
        ("story", {"topic": "A fox"}, create_story_prompt("A fox")),
    ):
        system, user = prompts.default_messages(kind, values)
        assert (system["content"], user["content"]) == _seed_parts(seed)
