using System.Globalization;
using System.Text.RegularExpressions;

namespace FentaWeb.Domain.Scripts;

/// <summary>
/// The offline writer: a coherent, genre-shaped script built from sentence patterns around the prompt's topic and
/// keywords, sized to the target duration. Deterministic for a given request, so reruns give the same video.
/// </summary>
public sealed partial class TemplateScriptWriter : IScriptWriter
{
    private static readonly HashSet<string> StopWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "the", "and", "for", "with", "about", "that", "this", "from", "into", "your", "you", "are", "was", "were", "will", "what", "how",
        "why", "who", "when", "make", "video", "short", "punchy", "headline", "beats", "beat", "story", "script", "minute", "seconds",
        "today", "some", "more", "most", "very", "just", "than", "then", "them", "they", "their", "have", "has", "had", "its", "our",
    };

    private static readonly Dictionary<string, Genre> Genres = new()
    {
        ["news"] = new(
            Hooks: ["Breaking news on {topic}.", "Here is what just happened with {topic}.", "{Topic}: the story everyone is talking about."],
            Openers: ["Here is what we know so far about {topic}.", "The latest on {topic} is moving fast."],
            Middles:
            [
                "Early reports point to {keyword} as the key factor.", "Officials say more details about {keyword} are expected soon.",
                "People close to the story say {keyword} changed everything.", "The numbers behind {keyword} are bigger than expected.",
                "Experts warn that {keyword} could shape what happens next.", "Witnesses describe a scene dominated by {keyword}.",
            ],
            Closers: ["We will keep following {topic} as it develops.", "Stay tuned for more on {topic}."],
            Tags: ["news", "breaking", "today"]),
        ["story"] = new(
            Hooks: ["This is the story of {topic}.", "Nobody expected what happened with {topic}.", "Let me tell you about {topic}."],
            Openers: ["It all started with {topic}.", "At first, {topic} seemed like an ordinary thing."],
            Middles:
            [
                "Then {keyword} changed the plan.", "Everything turned on a single moment of {keyword}.", "Slowly, {keyword} became impossible to ignore.",
                "What came next was pure {keyword}.", "Looking back, {keyword} was the turning point.", "And through it all, {keyword} held on.",
            ],
            Closers: ["And that is how {topic} became a story worth telling.", "Sometimes the best stories begin with {topic}."],
            Tags: ["story", "storytime", "shorts"]),
        ["review"] = new(
            Hooks: ["Is {topic} worth it? Let's find out.", "Honest review: {topic}.", "I tried {topic} so you don't have to."],
            Openers: ["First impressions of {topic} are strong.", "Out of the box, {topic} makes a clear statement."],
            Middles:
            [
                "The best part is {keyword}.", "Where it falls short is {keyword}.", "Day to day, {keyword} matters more than the specs.",
                "Compared with rivals, {keyword} stands out.", "The price makes sense once you see {keyword}.", "One surprise was {keyword}.",
            ],
            Closers: ["Verdict: {topic} earns a solid recommendation.", "If {keyword} matters to you, {topic} is a smart pick."],
            Tags: ["review", "honestreview", "tech"]),
        ["education"] = new(
            Hooks: ["Here is {topic} in under a minute.", "You have probably never understood {topic} like this.", "{Topic}, explained simply."],
            Openers: ["Let's start with the basics of {topic}.", "To understand {topic}, picture something simple."],
            Middles:
            [
                "The key idea is {keyword}.", "Think of {keyword} as the engine behind it.", "A common mistake is to ignore {keyword}.",
                "Step by step, {keyword} builds on itself.", "In practice, {keyword} shows up everywhere.", "Remember this: {keyword} is the shortcut.",
            ],
            Closers: ["Now you know the essentials of {topic}.", "Save this so you remember {topic} next time."],
            Tags: ["learn", "explained", "education"]),
        ["promo"] = new(
            Hooks: ["Meet {topic}.", "Your new favourite thing: {topic}.", "Stop scrolling. {Topic} is here."],
            Openers: ["{Topic} was made for people who want more.", "Imagine what {topic} can do for you."],
            Middles:
            [
                "It starts with {keyword}.", "You will love the way {keyword} just works.", "Designed around {keyword}, built to last.",
                "Every detail of {keyword} was thought through.", "Thousands already trust {keyword}.", "And yes, {keyword} comes standard.",
            ],
            Closers: ["Try {topic} today.", "Tap the link and get {topic} now."],
            Tags: ["new", "musthave", "deal"]),
        ["comedy"] = new(
            Hooks: ["Nobody warned me about {topic}.", "POV: you just discovered {topic}.", "{Topic} is a lot, and here is why."],
            Openers: ["So I tried {topic}.", "Day one with {topic} went exactly as planned. Not."],
            Middles:
            [
                "Then {keyword} happened.", "Apparently {keyword} is a whole personality now.", "I was not ready for {keyword}.",
                "Ten out of ten, would {keyword} again.", "Plot twist: {keyword}.", "My therapist will hear about {keyword}.",
            ],
            Closers: ["Anyway, {topic} won.", "Send this to someone who needs {topic} in their life."],
            Tags: ["funny", "relatable", "comedy"]),
        ["motivation"] = new(
            Hooks: ["This is your sign to start {topic}.", "{Topic} will change your life if you let it.", "Listen. {Topic} is possible."],
            Openers: ["Everyone who mastered {topic} started as a beginner.", "{Topic} begins with one decision."],
            Middles:
            [
                "Focus on {keyword} every single day.", "When {keyword} gets hard, keep going.", "Small wins in {keyword} add up.",
                "Nobody sees the work behind {keyword}.", "Discipline beats motivation when it comes to {keyword}.", "Trust the process of {keyword}.",
            ],
            Closers: ["Start {topic} today. Your future self is watching.", "You can do {topic}. Begin now."],
            Tags: ["motivation", "mindset", "goals"]),
    };

    private sealed record Genre(string[] Hooks, string[] Openers, string[] Middles, string[] Closers, string[] Tags);

    [GeneratedRegex(@"\b\d+\s*(s|sec|secs|seconds|min|minutes|beats?|scenes?|parts?)\b|[+#*/|]|\b\d+\b", RegexOptions.IgnoreCase)]
    private static partial Regex Instructions();

    [GeneratedRegex(@"[\p{L}\p{N}'-]+")]
    private static partial Regex Word();

    public Task<Script> WriteAsync(ScriptRequest request, CancellationToken ct)
    {
        var genre = Genres.GetValueOrDefault(request.Genre) ?? Genres["story"];
        var topic = Topic(request.Prompt);
        var keywords = Keywords(topic);
        var random = new Random(StableSeed($"{request.Prompt}|{request.Genre}|{request.DurationSeconds}|{request.Scenes}"));
        string Fill(string pattern, string keyword) => pattern
            .Replace("{Topic}", Capitalize(topic), StringComparison.Ordinal)
            .Replace("{topic}", topic, StringComparison.Ordinal)
            .Replace("{keyword}", keyword, StringComparison.Ordinal);

        var count = request.SceneCount;
        var wordsPerScene = Math.Max(6, request.TargetWords / count);
        var middles = genre.Middles.OrderBy(_ => random.Next()).ToList();
        var hook = Fill(genre.Hooks[random.Next(genre.Hooks.Length)], keywords[0]);
        var scenes = new List<Scene>();
        for (var i = 0; i < count; i++)
        {
            var keyword = keywords[i % keywords.Count];
            var sentences = new List<string>();
            if (i == 0) sentences.Add(hook);
            if (i == 0 && count > 1) sentences.Add(Fill(genre.Openers[random.Next(genre.Openers.Length)], keyword));
            else if (i == count - 1) sentences.Add(Fill(genre.Closers[random.Next(genre.Closers.Length)], keyword));
            var next = i;
            while (sentences.Sum(s => s.Split(' ').Length) < wordsPerScene - 3)
                sentences.Insert(i == count - 1 ? sentences.Count - 1 : sentences.Count, Fill(middles[next++ % middles.Count], keywords[next % keywords.Count]));
            var terms = new[] { keyword, topic }.Concat(keywords).Distinct(StringComparer.OrdinalIgnoreCase).Take(3).ToList();
            scenes.Add(new Scene(i, string.Join(" ", sentences), terms,
                $"{Capitalize(keyword)}, {topic}, cinematic vertical shot, natural light, high detail"));
        }

        var hashtags = keywords.Take(3).Select(k => "#" + new string(k.Where(char.IsLetterOrDigit).ToArray()).ToLowerInvariant())
            .Concat(genre.Tags.Select(t => "#" + t)).Where(t => t.Length > 1).Distinct().Take(6).ToList();
        var title = Capitalize(topic).Length <= 60 ? Capitalize(topic) : Capitalize(topic)[..57] + "...";
        return Task.FromResult(new Script(title, hook, scenes, hashtags, request.Lang, request.Genre, "template"));
    }

    /// <summary>The subject of a prompt without its production instructions ("30s", "+ 3 beats").</summary>
    public static string Topic(string prompt)
    {
        var cleaned = Regex.Replace(Instructions().Replace(prompt, " "), @"\s+", " ").Trim(' ', ',', '.', ':', '-');
        var words = Word().Matches(cleaned).Select(m => m.Value).ToList();
        var meaningful = words.Where(w => !StopWords.Contains(w)).ToList();
        return meaningful.Count == 0 ? DefaultTopic : string.Join(" ", words).ToLower(CultureInfo.InvariantCulture);
    }

    private static List<string> Keywords(string topic)
    {
        if (topic == DefaultTopic) return ["the city", "local leaders", "the latest numbers", "the community"];
        var words = Word().Matches(topic).Select(m => m.Value).Where(w => w.Length > 2 && !StopWords.Contains(w)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        return words.Count == 0 ? [topic] : words;
    }

    private const string DefaultTopic = "today's top story";

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpper(text[0], CultureInfo.InvariantCulture) + text[1..];

    private static int StableSeed(string text)
    {
        var hash = 17;
        foreach (var c in text) hash = unchecked(hash * 31 + c);
        return hash;
    }
}
