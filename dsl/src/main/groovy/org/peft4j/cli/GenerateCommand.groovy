package org.peft4j.cli

import org.peft4j.data.CausalLmTokenizer
import org.peft4j.generate.Generation
import org.peft4j.generate.GenerationConfig
import org.peft4j.generate.Generator
import org.peft4j.models.core.CausalLm
import org.peft4j.tensor.Backend
import picocli.CommandLine.Command
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Option
import picocli.CommandLine.Spec

import java.nio.file.Path
import java.util.concurrent.Callable

/** Continues a prompt with a causal LM of any decoder family the Registry loads, its adapter optional. */
@Command(name = 'generate', mixinStandardHelpOptions = true, versionProvider = Main.Version,
        description = ['Continue a prompt with a causal language model (config.json\'s model_type: ${sys:peft4j.help.decoder-model-types})',
                'and print the new text, special tokens left out; the token count, tokens/s and the time to the first token',
                'go to stderr.',
                'Greedy unless --temperature > 0.',
                'Decoding stops at --max-new-tokens, at a --stop string (cut from the text) or at config.json\'s eos_token_id.',
                'With --adapter the adapter runs beside each layer; --merge folds it into the weights first (W + ΔW),',
                'as \'peft4j merge\' would write them, so no adapter branch runs per token.'],
        footer = ['', 'Examples:', '  peft4j generate --model ~/models/TinyLlama-1.1B --prompt "The capital of France is" --max-new-tokens 16',
                '  peft4j generate --model ~/models/gpt2 --prompt "Once upon a time" --temperature 0.8 --top-p 0.95 --seed 7',
                '  peft4j generate --model ~/models/Qwen2-0.5B --adapter runs/chat/adapter --prompt "Q: 2+2?\\nA:" --stop "\\n"',
                '  peft4j generate --model ~/models/Qwen2-0.5B --adapter runs/chat/adapter --merge --prompt "Q: 2+2?\\nA:"',
                '', 'Exit codes: 0 generated, 1 generation failed, 2 a usage mistake (missing directory, unsupported model, bad option).'])
class GenerateCommand implements Callable<Integer> {

    @Option(names = '--model', required = true, paramLabel = 'DIR', description = 'a Hugging Face decoder directory (config.json, *.safetensors, tokenizer.json)')
    Path model

    @Option(names = '--adapter', paramLabel = 'DIR', description = 'a PEFT LoRA or AdaLoRA adapter directory to apply to the model')
    Path adapter

    @Option(names = '--merge', description = 'merge --adapter (LoRA or AdaLoRA) into the weights in memory before decoding: no adapter branch at run time')
    boolean merge

    @Option(names = '--prompt', required = true, paramLabel = 'TEXT', description = 'the text to continue (no special tokens are added)')
    String prompt

    @Option(names = '--max-new-tokens', paramLabel = 'N', defaultValue = '64', description = 'stop after this many new tokens (default: ${DEFAULT-VALUE})')
    int maxNewTokens

    @Option(names = '--temperature', paramLabel = 'T', defaultValue = '0', description = '0 for greedy decoding, else sample from softmax(logits / T) (default: ${DEFAULT-VALUE})')
    double temperature

    @Option(names = '--top-k', paramLabel = 'K', defaultValue = '0', description = 'sample among the K most likely tokens; 0: no limit (default: ${DEFAULT-VALUE})')
    int topK

    @Option(names = '--top-p', paramLabel = 'P', defaultValue = '1.0', description = 'nucleus sampling: the most likely tokens whose probability reaches P; 1: no limit (default: ${DEFAULT-VALUE})')
    double topP

    @Option(names = '--stop', paramLabel = 'STR', description = 'stop when the new text contains STR, cut before it; repeatable')
    List<String> stops = []

    @Option(names = '--seed', paramLabel = 'N', defaultValue = '42', description = 'seeds sampling, so a sampled generation can be repeated (default: ${DEFAULT-VALUE})')
    long seed

    @Option(names = '--no-cache', description = 're-run the whole sequence every step instead of keeping past keys and values (slower; for checking)')
    boolean noCache

    @Option(names = '--stacktrace', description = 'print the stack trace of an error')
    boolean stacktrace

    @Spec
    CommandSpec spec

    @Override
    Integer call() {
        // picocli reads "\n" literally; a newline stop string is what users mean by it
        List<String> stopStrings = stops.collect { it.replace('\\n', '\n').replace('\\t', '\t') }
        // the config checks every value at once and its ConfigException is a usage mistake: before loading anything
        GenerationConfig config = new GenerationConfig(maxNewTokens, temperature, topK, topP, stopStrings, null, !noCache, seed)
        if (prompt.isEmpty()) {
            throw new UserError('--prompt is empty; a causal language model needs at least one token to continue')
        }
        CausalLm lm = LanguageModels.load(model, adapter, merge)
        config = config.withStops(stopStrings, LanguageModels.eosTokenIds(model))
        Generation g
        CausalLmTokenizer tokenizer = LanguageModels.tokenizer(model)
        try {
            int[] ids = tokenizer.encode(prompt)
            if (ids.length == 0) {
                throw new UserError("--prompt '${prompt}' has no tokens")
            }
            if (ids.length >= lm.maxPositions()) {
                throw new UserError("--prompt has ${ids.length} tokens; the model takes at most ${lm.maxPositions()} positions")
            }
            g = new Generator(lm, Backend.get().manager()).generate(prompt, tokenizer, config)
        } finally {
            tokenizer.close()
        }
        PrintWriter out = spec.commandLine().out
        out.println(g.text())
        out.flush()
        PrintWriter err = spec.commandLine().err
        // time to first token is the prompt's reading plus one step: what a user waits before any text
        err.println(String.format(Locale.ROOT, '%d new tokens in %.2f s, %.1f tokens/s, first token after %.3f s, KV cache %s (stop: %s)',
                g.ids().length, g.seconds(), g.tokensPerSecond(), g.firstTokenSeconds(), noCache ? 'off' : 'on',
                g.stopReason().name().toLowerCase(Locale.ROOT).replace('_', ' ')))
        err.flush()
        0
    }
}
