using FentaWeb.Domain.Media;

namespace FentaWeb.Domain.Scripts;

/// <summary>
/// Offline compression: drops whole sentences, longest scenes first, until the script fits the target length.
/// Every scene keeps its first sentence, and the first and last sentences (hook and close) always stay.
/// </summary>
public static class ScriptCompressor
{
    public static Script Compress(Script script, int targetWords)
    {
        var scenes = script.Scenes.Select(s => Sentences.Split(s.Narration).ToList()).ToList();
        int Words() => scenes.Sum(s => s.Sum(x => x.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length));
        while (Words() > targetWords)
        {
            // Removable: not a scene's first sentence, not the script's last sentence.
            var candidates = scenes.Select((sentences, i) => (i, sentences))
                .Where(c => c.sentences.Count > (c.i == scenes.Count - 1 ? 2 : 1))
                .OrderByDescending(c => c.sentences.Count).ThenByDescending(c => c.sentences.Sum(x => x.Length)).ToList();
            if (candidates.Count == 0) break;
            var (index, chosen) = candidates[0];
            chosen.RemoveAt(index == scenes.Count - 1 ? chosen.Count - 2 : chosen.Count - 1);
        }
        return script with
        {
            Scenes = script.Scenes.Select((s, i) => s with { Narration = string.Join(" ", scenes[i]) }).ToList(),
            Source = $"{script.Source}+compressed",
        };
    }
}
